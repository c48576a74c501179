//! How `aggregate_stats` walks its backlog: in chunks that never cross a UTC day, so each chunk's
//! distinct-device figures belong to one day and one month.
//!
//! Times are PostgreSQL `timestamptz` values: microseconds since 2000-01-01 00:00 UTC, itself a
//! UTC midnight, so days start at multiples of [`DAY`].

/// Microseconds in a UTC day (UTC days are always 24 hours).
pub const DAY: i64 = 86_400_000_000;

/// The chunks covering `[from, to)`, in time order; none when `from >= to`.
pub fn day_chunks(from: i64, to: i64) -> impl Iterator<Item = (i64, i64)> {
    let mut start = from;
    std::iter::from_fn(move || {
        if start >= to {
            return None;
        }
        let next_day = start.div_euclid(DAY).saturating_add(1).saturating_mul(DAY);
        let end = next_day.min(to);
        let chunk = (start, end);
        start = end;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = DAY / 24;

    #[test]
    fn chunks_end_at_midnight_and_cover_the_range() {
        let from = 10 * DAY + 22 * HOUR;
        let to = 12 * DAY + 3 * HOUR;
        let chunks: Vec<_> = day_chunks(from, to).collect();
        assert_eq!(chunks, vec![(from, 11 * DAY), (11 * DAY, 12 * DAY), (12 * DAY, to)]);
        assert_eq!(day_chunks(to, to).count(), 0);
        assert_eq!(day_chunks(to, from).count(), 0);
    }

    #[test]
    fn times_before_2000_are_chunked_by_their_own_days() {
        let chunks: Vec<_> = day_chunks(-DAY - HOUR, HOUR).collect();
        assert_eq!(chunks, vec![(-DAY - HOUR, -DAY), (-DAY, 0), (0, HOUR)]);
    }
}
