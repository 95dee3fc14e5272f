//! Stripe stand-in and the intent index.

use super::*;

/// A Stripe stand-in for unit tests: intents and refunds in memory.
#[derive(Default)]
pub struct FakeGateway {
    pub intents: Mutex<Vec<crate::ports::PaymentIntent>>,
    /// (intent, amount, idempotency key)
    pub refunds: Mutex<Vec<(String, i64, String)>>,
    /// Connected accounts by idempotency key, as Stripe replays a key's first answer.
    pub accounts: Mutex<Vec<(String, PayoutAccount)>>,
    /// Transfers (idempotency key, booking, destination, transfer) and reversals (key, transfer, amount).
    pub transfers: Mutex<Vec<(String, String, String, crate::ports::Transfer)>>,
    pub reversals: Mutex<Vec<(String, String, i64)>>,
    /// When set, transfers are refused with this cause, as Stripe answers a 4xx.
    pub refuse_transfers: Mutex<Option<String>>,
    /// Customers by idempotency key.
    pub customers: Mutex<Vec<(String, String)>>,
    /// Deposit holds by idempotency key: (key, intent id, amount, state: held|captured N|released).
    pub holds: Mutex<Vec<(String, String, i64, String)>>,
    /// When set, off-session holds are refused with this code, as a card's issuer answers 402.
    pub refuse_holds: Mutex<Option<String>>,
    /// When set, deposit calls fail as an unreachable Stripe does.
    pub holds_unavailable: Mutex<bool>,
}

#[async_trait]
impl crate::ports::DepositGateway for FakeGateway {
    async fn create_customer(&self, _user: &UserId, key: &str) -> Result<String, AppError> {
        let mut customers = lock(&self.customers);
        if let Some((_, id)) = customers.iter().find(|(k, _)| k == key) {
            return Ok(id.clone());
        }
        let id = format!("cus_{}", customers.len() + 1);
        customers.push((key.to_owned(), id.clone()));
        Ok(id)
    }
    async fn hold(
        &self,
        deposit: &crate::domain::deposit::Deposit,
        key: &str,
    ) -> Result<crate::ports::HoldOutcome, AppError> {
        self.reachable()?;
        if let Some(code) = lock(&self.refuse_holds).clone() {
            return Ok(crate::ports::HoldOutcome::Refused(code));
        }
        let mut holds = lock(&self.holds);
        if let Some((_, id, ..)) = holds.iter().find(|(k, ..)| k == key) {
            return Ok(crate::ports::HoldOutcome::Authorized(id.clone()));
        }
        let id = format!("pi_hold_{}", holds.len() + 1);
        holds.push((key.to_owned(), id.clone(), deposit.amount, "held".into()));
        Ok(crate::ports::HoldOutcome::Authorized(id))
    }
    async fn hold_on_session(
        &self,
        deposit: &crate::domain::deposit::Deposit,
        key: &str,
    ) -> Result<crate::ports::PaymentIntent, AppError> {
        let mut holds = lock(&self.holds);
        let id = match holds.iter().find(|(k, ..)| k == key) {
            Some((_, id, ..)) => id.clone(),
            None => {
                let id = format!("pi_hold_{}", holds.len() + 1);
                holds.push((key.to_owned(), id.clone(), deposit.amount, "requires_payment_method".into()));
                id
            }
        };
        Ok(crate::ports::PaymentIntent {
            client_secret: format!("{id}_secret_x"),
            id,
            amount: deposit.amount,
            currency: deposit.currency.code().to_owned(),
            status: "requires_payment_method".into(),
        })
    }
    async fn capture(
        &self,
        intent_id: &str,
        amount: i64,
        _key: &str,
    ) -> Result<Option<crate::ports::Captured>, AppError> {
        self.reachable()?;
        let state = lock(&self.holds).iter().find(|h| h.1 == intent_id).map(|h| h.3.clone());
        if matches!(state.as_deref(), Some("lapsed" | "released")) {
            return Ok(None);
        }
        self.settle_hold(intent_id, format!("captured {amount}"))
            .map(|()| Some(crate::ports::Captured { amount, charge: Some(format!("ch_{intent_id}")) }))
    }
    async fn release(&self, intent_id: &str, _key: &str) -> Result<(), AppError> {
        self.reachable()?;
        self.settle_hold(intent_id, "released".into())
    }
}

impl FakeGateway {
    fn reachable(&self) -> Result<(), AppError> {
        match *lock(&self.holds_unavailable) {
            true => Err(AppError::Unavailable { dependency: "stripe".into() }),
            false => Ok(()),
        }
    }

    /// Ends a hold as Stripe would: once (a repeat of the same end is a no-op), never both ways.
    fn settle_hold(&self, intent_id: &str, state: String) -> Result<(), AppError> {
        let mut holds = lock(&self.holds);
        let hold = holds.iter_mut().find(|(_, id, ..)| id == intent_id).ok_or(AppError::NotFound("hold"))?;
        match hold.3.as_str() {
            "held" => hold.3 = state,
            done if done == state => {}
            done => return Err(AppError::internal(format!("hold {intent_id} is {done} already"))),
        }
        Ok(())
    }

    /// The states of the holds asked for so far, in order.
    pub fn hold_states(&self) -> Vec<String> {
        lock(&self.holds).iter().map(|h| h.3.clone()).collect()
    }
}

#[async_trait]
impl crate::ports::TransferGateway for FakeGateway {
    async fn transfer(
        &self,
        payout: &crate::domain::payout::Payout,
        amount: i64,
        destination: &str,
        key: &str,
    ) -> Result<crate::ports::Transfer, AppError> {
        if let Some(cause) = lock(&self.refuse_transfers).clone() {
            return Err(AppError::internal(cause));
        }
        let mut transfers = lock(&self.transfers);
        if let Some((_, _, _, t)) = transfers.iter().find(|(k, ..)| k == key) {
            return Ok(t.clone());
        }
        let t = crate::ports::Transfer { id: format!("tr_{}", transfers.len() + 1), amount, reversed: 0 };
        transfers.push((key.to_owned(), payout.booking_id.to_string(), destination.to_owned(), t.clone()));
        Ok(t)
    }
    async fn transfers_of(&self, booking: &BookingId) -> Result<Vec<crate::ports::Transfer>, AppError> {
        let transfers = lock(&self.transfers);
        let reversals = lock(&self.reversals);
        Ok(transfers
            .iter()
            .filter(|(_, b, ..)| b == booking.as_str())
            .map(|(.., t)| crate::ports::Transfer {
                reversed: reversals.iter().filter(|(_, id, _)| *id == t.id).map(|(.., a)| a).sum(),
                ..t.clone()
            })
            .collect())
    }
    async fn transfer_deposit(
        &self,
        booking: &BookingId,
        _currency: crate::domain::money::Currency,
        amount: i64,
        _charge: &str,
        destination: &str,
        key: &str,
    ) -> Result<crate::ports::Transfer, AppError> {
        if let Some(cause) = lock(&self.refuse_transfers).clone() {
            return Err(AppError::internal(cause));
        }
        let mut transfers = lock(&self.transfers);
        if let Some((_, _, _, t)) = transfers.iter().find(|(k, ..)| k == key) {
            return Ok(t.clone());
        }
        let t = crate::ports::Transfer { id: format!("tr_{}", transfers.len() + 1), amount, reversed: 0 };
        transfers.push((key.to_owned(), format!("deposit-{booking}"), destination.to_owned(), t.clone()));
        Ok(t)
    }
    async fn deposit_transfers_of(&self, booking: &BookingId) -> Result<Vec<crate::ports::Transfer>, AppError> {
        let group = format!("deposit-{booking}");
        Ok(lock(&self.transfers).iter().filter(|(_, b, ..)| *b == group).map(|(.., t)| t.clone()).collect())
    }
    async fn reverse(&self, transfer_id: &str, amount: i64, key: &str) -> Result<String, AppError> {
        let mut reversals = lock(&self.reversals);
        if !reversals.iter().any(|(k, ..)| k == key) {
            reversals.push((key.to_owned(), transfer_id.to_owned(), amount));
        }
        Ok(format!("trr_{key}"))
    }
}

#[async_trait]
impl crate::ports::PaymentGateway for FakeGateway {
    async fn create_intent(
        &self,
        booking: &Booking,
        _customer: &str,
        _key: &str,
    ) -> Result<crate::ports::PaymentIntent, AppError> {
        let mut intents = lock(&self.intents);
        let intent = crate::ports::PaymentIntent {
            id: format!("pi_{}", intents.len() + 1),
            client_secret: format!("pi_{}_secret_x", intents.len() + 1),
            amount: booking.quote.total,
            currency: booking.quote.currency.code().to_owned(),
            status: "requires_payment_method".into(),
        };
        intents.push(intent.clone());
        Ok(intent)
    }
    async fn get_intent(&self, id: &str) -> Result<crate::ports::PaymentIntent, AppError> {
        if let Some(intent) = lock(&self.intents).iter().find(|i| i.id == id) {
            return Ok(intent.clone());
        }
        let holds = lock(&self.holds);
        let (_, id, amount, state) = holds.iter().find(|h| h.1 == id).ok_or(AppError::NotFound("payment intent"))?;
        Ok(crate::ports::PaymentIntent {
            id: id.clone(),
            client_secret: format!("{id}_secret_x"),
            amount: *amount,
            currency: "EUR".into(),
            status: state.clone(),
        })
    }
    async fn refund(
        &self,
        intent_id: &str,
        amount: i64,
        _booking: &str,
        key: &str,
    ) -> Result<crate::ports::Refund, AppError> {
        let mut refunds = lock(&self.refunds);
        if !refunds.iter().any(|(_, _, k)| k == key) {
            refunds.push((intent_id.to_owned(), amount, key.to_owned()));
        }
        Ok(crate::ports::Refund { id: format!("re_{}", refunds.len()), amount, status: "succeeded".into() })
    }
    async fn publishable_key(&self) -> Result<String, AppError> {
        Ok("pk_test_fake".into())
    }
}

#[async_trait]
impl crate::ports::IntentIndex for MemoryStore {
    async fn link_intent(&self, _intent_id: &str, _booking: &BookingId) -> Result<(), AppError> {
        Ok(())
    }
    async fn booking_for_intent(&self, intent_id: &str) -> Result<Option<BookingId>, AppError> {
        Ok(lock(&self.bookings)
            .values()
            .find(|b| b.payment.intent_id.as_deref() == Some(intent_id))
            .map(|b| b.id.clone()))
    }
}

#[async_trait]
impl crate::ports::ConnectGateway for FakeGateway {
    async fn create_account(
        &self,
        _user: &UserId,
        _email: Option<&str>,
        country: crate::domain::country::Country,
        key: &str,
    ) -> Result<PayoutAccount, AppError> {
        let mut accounts = lock(&self.accounts);
        if let Some((_, a)) = accounts.iter().find(|(k, _)| k == key) {
            return Ok(a.clone());
        }
        let account = PayoutAccount {
            id: format!("acct_{}", accounts.len() + 1),
            country,
            details_submitted: false,
            charges_enabled: false,
            payouts_enabled: false,
            transfers_active: false,
            currently_due: vec!["external_account".into()],
            past_due: vec!["external_account".into()],
            disabled_reason: Some("requirements.past_due".into()),
            reported_at: Utc::now(),
        };
        accounts.push((key.to_owned(), account.clone()));
        Ok(account)
    }

    async fn onboarding_link(
        &self,
        account_id: &str,
        _refresh_url: &str,
        _return_url: &str,
    ) -> Result<crate::ports::OnboardingLink, AppError> {
        Ok(crate::ports::OnboardingLink {
            url: format!("https://connect.example.test/onboarding/{account_id}"),
            expires_at: Utc::now() + chrono::Duration::minutes(5),
        })
    }
}
