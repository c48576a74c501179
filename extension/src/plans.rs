//! Statements prepared once per backend and kept (`SPI_keepplan`) for its lifetime.
//!
//! Planning dominated the first measurements (a SQL function is planned again on every call), so
//! every statement on a hot path goes through here.

use std::cell::RefCell;
use std::collections::HashMap;

use pgrx::spi::{OwnedPreparedStatement, SpiClient, SpiResult};
use pgrx::{PgBuiltInOids, PgOid};

/// Argument types of the kept statements.
pub const TEXT: PgOid = PgOid::BuiltIn(PgBuiltInOids::TEXTOID);
pub const INT8: PgOid = PgOid::BuiltIn(PgBuiltInOids::INT8OID);
pub const BOOL: PgOid = PgOid::BuiltIn(PgBuiltInOids::BOOLOID);
pub const JSON: PgOid = PgOid::BuiltIn(PgBuiltInOids::JSONOID);
pub const TEXT_ARRAY: PgOid = PgOid::BuiltIn(PgBuiltInOids::TEXTARRAYOID);

thread_local! {
    // A backend is single-threaded; plans live as long as it does.
    static PLANS: RefCell<HashMap<&'static str, OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

/// Runs `run` with the read-only statement registered under `name`, preparing `sql` with
/// `arg_types` the first time. `name` must identify `sql` exactly.
pub fn with_plan<R>(
    client: &SpiClient<'_>,
    name: &'static str,
    sql: impl FnOnce() -> String,
    arg_types: &[PgOid],
    run: impl FnOnce(&OwnedPreparedStatement) -> SpiResult<R>,
) -> SpiResult<R> {
    PLANS.with_borrow_mut(|plans| {
        if !plans.contains_key(name) {
            plans.insert(name, client.prepare(sql().as_str(), arg_types)?.keep());
        }
        run(plans.get(name).expect("inserted just above"))
    })
}

/// [`with_plan`] for a statement that writes; `run` gets the client back to execute it.
pub fn with_write_plan<'conn, R>(
    client: &mut SpiClient<'conn>,
    name: &'static str,
    sql: &str,
    arg_types: &[PgOid],
    run: impl FnOnce(&mut SpiClient<'conn>, &OwnedPreparedStatement) -> SpiResult<R>,
) -> SpiResult<R> {
    PLANS.with_borrow_mut(|plans| {
        if !plans.contains_key(name) {
            plans.insert(name, client.prepare_mut(sql, arg_types)?.keep());
        }
        run(client, plans.get(name).expect("inserted just above"))
    })
}
