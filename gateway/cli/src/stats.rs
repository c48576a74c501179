//! `liveupdate stats` and `liveupdate channel guard`: the statistics API and the failure guard's
//! settings and decisions, printed for people.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Today's UTC date and the one `days_back` before it, as YYYY-MM-DD.
pub fn default_range(days_back: i64) -> (String, String) {
    let today =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64 / 86_400).unwrap_or(0);
    (civil_date(today - days_back), civil_date(today))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn number(value: &Value, name: &str) -> i64 {
    value.get(name).and_then(Value::as_i64).unwrap_or(0)
}

fn bytes(count: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut amount = count as f64;
    let mut unit = 0;
    while amount >= 1000.0 && unit < UNITS.len() - 1 {
        amount /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{count} B") } else { format!("{amount:.1} {}", UNITS[unit]) }
}

fn failure_share(fails: i64, installs: i64) -> String {
    if fails + installs == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * fails as f64 / (fails + installs) as f64)
    }
}

/// One line per period, then each bundle's and each channel's totals over the range.
pub fn render(stats: &Value) -> String {
    let hourly = stats["granularity"] == "hour";
    let mut out = format!(
        "{}, UTC {} {} to {} (events up to {})\n",
        stats["app_id"].as_str().unwrap_or("?"),
        if hourly { "hours of" } else { "days" },
        stats["from"].as_str().unwrap_or("?"),
        stats["to"].as_str().unwrap_or("?"),
        stats["fresh_until"].as_str().unwrap_or("-"),
    );
    out += &format!(
        "{:<17} {:>8} {:>8} {:>7} {:>8} {:>6} {:>10} {:>10} {:>10} {:>10}\n",
        "period",
        "active",
        if hourly { "" } else { "monthly" },
        "gets",
        "installs",
        "fails",
        "uninstalls",
        "bandwidth",
        "served",
        if hourly { "" } else { "storage" }
    );
    let periods = stats["periods"].as_array().cloned().unwrap_or_default();
    let mut versions: Vec<(String, [i64; 5])> = Vec::new();
    let mut channels: Vec<(String, [i64; 5])> = Vec::new();
    for period in &periods {
        let start = period["start"].as_str().unwrap_or("?");
        out += &format!(
            "{:<17} {:>8} {:>8} {:>7} {:>8} {:>6} {:>10} {:>10} {:>10} {:>10}\n",
            if hourly {
                start.get(..16).unwrap_or(start).replace('T', " ")
            } else {
                start.get(..10).unwrap_or(start).to_owned()
            },
            number(period, "active_devices"),
            period["monthly_active_devices"].as_i64().map(|n| n.to_string()).unwrap_or_default(),
            number(period, "gets"),
            number(period, "installs"),
            number(period, "fails"),
            number(period, "uninstalls"),
            bytes(number(period, "bandwidth_bytes")),
            bytes(number(period, "served_bytes")),
            period["storage_bytes"].as_i64().map(bytes).unwrap_or_default(),
        );
        for (list, key, totals) in
            [("versions", "version", &mut versions), ("channels", "channel", &mut channels)]
        {
            for entry in period[list].as_array().into_iter().flatten() {
                let name = entry[key].as_str().unwrap_or("").to_owned();
                let figures =
                    ["gets", "installs", "fails", "uninstalls", "bandwidth_bytes"].map(|f| number(entry, f));
                match totals.iter_mut().find(|(known, _)| *known == name) {
                    Some((_, sums)) => sums.iter_mut().zip(figures).for_each(|(sum, add)| *sum += add),
                    None => totals.push((name, figures)),
                }
            }
        }
    }
    for (title, totals) in [("bundles", &versions), ("channels", &channels)] {
        out += &format!("\n{title} over the range:\n");
        if totals.is_empty() {
            out += "  (none)\n";
        }
        for (name, [gets, installs, fails, uninstalls, bandwidth]) in totals {
            let name = if name.is_empty() { "(no channel)" } else { name.as_str() };
            out += &format!(
                "  {name:<16} gets {gets}, installs {installs}, fails {fails} ({}), uninstalls {uninstalls}, {}\n",
                failure_share(*fails, *installs),
                bytes(*bandwidth)
            );
        }
    }
    // Adoption on the last day that has any (hours carry none).
    let last_day = periods.iter().rev().find(|p| p["versions"].as_array().is_some_and(|v| !v.is_empty()));
    if let Some(last) = last_day.filter(|_| !hourly) {
        let adoption: Vec<String> = last["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| {
                v["adoption"]
                    .as_f64()
                    .map(|a| format!("{} {:.1}%", v["version"].as_str().unwrap_or("?"), a * 100.0))
            })
            .collect();
        if !adoption.is_empty() {
            out += &format!(
                "\nadoption on {}: {}\n",
                last["start"].as_str().and_then(|s| s.get(..10)).unwrap_or("?"),
                adoption.join(", ")
            );
        }
    }
    out.trim_end().to_owned()
}

/// The guard's settings on one line, then its decisions.
pub fn render_guard(answer: &Value) -> String {
    let settings = &answer["settings"];
    let mut out = format!(
        "deploys: {}, rollouts: {}; acts when the Wilson lower bound ({}% confidence) of the failing share exceeds {}% \
         with at least {} devices trying and {} failing, counting the last {} min (deploys watched {} min), then waits {} min",
        settings["deploy_action"].as_str().unwrap_or("?"),
        settings["rollout_action"].as_str().unwrap_or("?"),
        settings["confidence"].as_f64().unwrap_or(0.0) * 100.0,
        settings["max_failure_rate"].as_f64().unwrap_or(0.0) * 100.0,
        number(settings, "min_attempts"),
        number(settings, "min_failures"),
        number(settings, "window_minutes"),
        number(settings, "watch_minutes"),
        number(settings, "cooldown_minutes"),
    );
    let decisions = answer["decisions"].as_array().cloned().unwrap_or_default();
    out += "\ndecisions:";
    if decisions.is_empty() {
        out += " (none)";
    }
    for decision in decisions {
        out += &format!(
            "\n  {}  {} {}: {} of {} devices failing (lower bound {:.1}%) → {}: {}",
            decision["decided_at"].as_str().unwrap_or("?"),
            decision["target"].as_str().unwrap_or("?"),
            decision["version_name"].as_str().unwrap_or("?"),
            number(&decision, "failures"),
            number(&decision, "attempts"),
            decision["lower_bound"].as_f64().unwrap_or(0.0) * 100.0,
            decision["action"].as_str().unwrap_or("?"),
            decision["outcome"].as_str().unwrap_or("?"),
        );
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_513), "2026-03-01");
        assert_eq!(civil_date(20_512), "2026-02-28");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
    }
}
