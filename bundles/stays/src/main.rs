//! The stay: the handover, deposits held on the card, condition reports, evidence and claims
//! (`check-evidence` is built on its own, with the image codecs).

bundle::bundle! {
    "pickup-booking" => pickup_booking::run,
    "return-booking" => return_booking::run,
    "flag-late-returns" => flag_late_returns::run,
    "hold-deposits" => hold_deposits::run,
    "place-deposit" => place_deposit::run,
    "write-condition-report" => write_condition_report::run,
    "list-condition-reports" => list_condition_reports::run,
    "create-evidence-upload" => create_evidence_upload::run,
    "file-claim" => file_claim::run,
    "answer-claim" => answer_claim::run,
    "get-claim" => get_claim::run,
    "accept-claims" => accept_claims::run,
    "list-claims" => list_claims::run,
    "review-claim" => review_claim::run,
    "decide-claim" => decide_claim::run,
}
