//! The stay: the handover, deposits held on the card, and condition reports.

bundle::bundle! {
    "pickup-booking" => pickup_booking::run,
    "return-booking" => return_booking::run,
    "flag-late-returns" => flag_late_returns::run,
    "hold-deposits" => hold_deposits::run,
    "place-deposit" => place_deposit::run,
    "write-condition-report" => write_condition_report::run,
    "list-condition-reports" => list_condition_reports::run,
}
