use super::*;
use crate::testing::returned_booking;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn case() -> (Booking, Deposit) {
    let returned = at("2026-12-13T10:00:00Z");
    let booking = returned_booking("2026-12-10", returned).unwrap();
    let deposit = Deposit::schedule(&booking, "cus_1".into(), None, 24, returned);
    (booking, deposit)
}

fn request(amount: i64) -> ClaimRequest {
    ClaimRequest { amount, description: "Scratched lens".into(), evidence: vec![] }
}

#[test]
fn a_claim_is_filed_within_the_window_up_to_the_deposit() {
    let (booking, deposit) = case();
    let window = Duration::hours(48);
    assert!(check_claimable(&booking, &deposit, window, at("2026-12-15T09:59:59Z")).is_ok());
    let closed = check_claimable(&booking, &deposit, window, at("2026-12-15T10:00:00Z"));
    assert!(matches!(closed, Err(AppError::Conflict { code: "claim_window_closed", .. })), "{closed:?}");
    let settled = deposit.settled(0, 0, at("2026-12-14T00:00:00Z"));
    assert!(check_claimable(&booking, &settled, window, at("2026-12-14T01:00:00Z")).is_err(), "released already");
    let mut confirmed = booking.clone();
    confirmed.status = BookingStatus::Confirmed;
    let early = check_claimable(&confirmed, &deposit, window, at("2026-12-14T00:00:00Z"));
    assert!(matches!(early, Err(AppError::Conflict { code: "claim_not_open", .. })));

    assert!(request(deposit.amount).parse(&deposit).is_ok());
    let Err(AppError::Validation(errors)) = request(deposit.amount + 1).parse(&deposit) else { panic!("over") };
    assert_eq!(errors[0].field, "amount");
    let blank = ClaimRequest { amount: 0, description: " ".into(), evidence: vec!["x".into()] };
    let Err(AppError::Validation(errors)) = blank.parse(&deposit) else { panic!("refused") };
    assert_eq!(errors.len(), 3, "every problem at once: {errors:?}");

    let claim =
        DamageClaim::file(&booking, &deposit, request(900).parse(&deposit).unwrap(), at("2026-12-14T00:00:00Z"));
    let with =
        deposit.with_damage(crate::domain::deposit::Damage { claim_id: claim.id.clone(), owed: None }, claim.filed_at);
    let twice = check_claimable(&booking, &with, window, at("2026-12-14T01:00:00Z"));
    assert!(matches!(twice, Err(AppError::Conflict { code: "claim_exists", .. })));
}

#[test]
fn the_renter_accepts_or_contests_once_and_in_time() {
    let (booking, deposit) = case();
    let filed = at("2026-12-14T00:00:00Z");
    let claim = DamageClaim::file(&booking, &deposit, request(900).parse(&deposit).unwrap(), filed);
    assert_eq!(claim.answer_by, filed + ANSWER_WINDOW);
    assert_eq!(claim.settled_for(), None);
    let accepted = claim.answered(ParsedAnswer::Accept, true, filed).unwrap();
    assert_eq!((accepted.status, accepted.settled_for(), accepted.version), (ClaimStatus::Accepted, Some(900), 2));
    let again = accepted.answered(ParsedAnswer::Accept, true, filed);
    assert!(matches!(again, Err(AppError::Conflict { code: "claim_answered", .. })));
    let late = claim.answered(ParsedAnswer::Accept, true, claim.answer_by);
    assert!(matches!(late, Err(AppError::Conflict { code: "answer_window_closed", .. })));
    let by_deadline = claim.answered(ParsedAnswer::Accept, false, claim.answer_by).unwrap();
    assert_eq!(by_deadline.answer.as_ref().map(|a| a.by_renter), Some(false));

    let contest =
        AnswerRequest { answer: "contest".into(), statement: Some("It was scratched before".into()), evidence: vec![] };
    let escalated = claim.answered(contest.parse().unwrap(), true, filed).unwrap();
    assert_eq!((escalated.status, escalated.settled_for()), (ClaimStatus::Escalated, None));
    let decision = DecisionRequest { amount: 400, note: "Half: the pickup report shows a mark".into() };
    let (amount, note) = decision.parse(&escalated).unwrap();
    let operator = UserId::parse("op").unwrap();
    let decided = escalated.decided(amount, note, operator.clone(), filed).unwrap();
    assert_eq!((decided.status, decided.settled_for()), (ClaimStatus::Decided, Some(400)));
    assert!(claim.decided(1, "x".into(), operator, filed).is_err(), "an open claim is the renter's to answer");
    assert!(DecisionRequest { amount: 901, note: "x".into() }.parse(&escalated).is_err(), "never more than claimed");
}

#[test]
fn answers_are_parsed_whole() {
    let no_statement = AnswerRequest { answer: "contest".into(), statement: None, evidence: vec![] };
    assert!(no_statement.parse().is_err(), "a contest needs a statement");
    let accept_with = AnswerRequest { answer: "accept".into(), statement: Some("ok".into()), evidence: vec![] };
    assert!(accept_with.parse().is_err());
    assert!(AnswerRequest { answer: "maybe".into(), statement: None, evidence: vec![] }.parse().is_err());
    assert_eq!(
        AnswerRequest { answer: "accept".into(), statement: None, evidence: vec![] }.parse().unwrap(),
        ParsedAnswer::Accept
    );
}
