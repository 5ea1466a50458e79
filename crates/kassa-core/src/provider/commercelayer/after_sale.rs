//! Commerce Layer after the sale: the payment's record (the order's authorizations, captures,
//! voids and refunds) and the triggers that capture, refund and void, each sent once. The
//! facts and choices are in the parent module's doc ("After the sale"). Not for: cancelling a
//! sale nobody paid (the parent's `cancel`).

use super::{wire, CommerceLayer};
use crate::http::{percent_encode, Method};
use crate::provider::common::clip;
use crate::provider::{
    ErrorKind, OperationAnswer, OperationRequest, PaymentState, Provider, ProviderError, SessionRef,
};

impl CommerceLayer {
    /// The order with its authorizations, captures, voids and refunds.
    fn read_payment(&self, id: &str) -> Result<wire::Doc, ProviderError> {
        let path = format!(
            "/api/orders/{}?{}",
            percent_encode(id),
            wire::PAYMENT_FIELDS
        );
        self.call(Method::Get, &path, None, &format!("order {id}"))
    }

    /// What a money trigger answered (`doc`, read with the `include` of `kind`): the
    /// transaction it made (the one of `kind` not among `before`, the ids read just before),
    /// which counts only if it `succeeded` (a declining gateway answers 200 with
    /// `succeeded: false`). A success is tagged with Kassa's operation id, so that later reads
    /// name it; a failed tag is said in the detail, never an error (the money moved).
    fn made(
        &self,
        doc: &wire::Doc,
        kind: &str,
        before: &[String],
        op: &OperationRequest,
        sent: &str,
    ) -> Result<OperationAnswer, ProviderError> {
        let what = kind.trim_end_matches('s');
        let Some(t) = wire::made_by_trigger(doc, kind, before) else {
            return Err(self.error(ErrorKind::BadResponse {
                status: 200,
                detail: format!(
                    "the answer to {sent} shows no new {what}: whether it happened is in the payment's record"
                ),
            }));
        };
        let amount = wire::money(t.amount, op.session.currency);
        if !t.succeeded {
            return Err(self.error(ErrorKind::Rejected {
                status: 200,
                code: t.error_code.clone(),
                message: clip(&format!(
                    "the gateway declined {what} {} of {amount}: {} (recorded with succeeded: false; no money moved)",
                    t.id,
                    if t.message.is_empty() { "no message" } else { &t.message }
                )),
            }));
        }
        let mut detail = format!("Commerce Layer {what} {} of {amount} succeeded", t.id);
        let tagged = self.send(
            Method::Patch,
            &format!("/api/{kind}/{}", percent_encode(&t.id)),
            Some(wire::tag(kind, &t.id, op.id)),
            &format!("{what} {}", t.id),
        );
        if let Err(e) = tagged {
            detail.push_str(&format!(
                "; tagging it with Kassa's operation id failed: {e}"
            ));
        }
        Ok(OperationAnswer {
            pending: false,
            provider_reference: Some(t.id),
            detail,
        })
    }

    /// The payment state of an order read with its transactions.
    fn payment(&self, doc: &wire::Doc, currency: &str) -> Result<PaymentState, ProviderError> {
        wire::payment_state(doc, currency).map_err(|detail| {
            self.error(ErrorKind::BadResponse {
                status: 200,
                detail,
            })
        })
    }

    /// The order of `op`'s sale, read with its transactions.
    fn record_of<'a>(
        &self,
        op: &OperationRequest<'a>,
    ) -> Result<(&'a str, wire::Doc, Vec<wire::Transaction>), ProviderError> {
        let id = self.order_id(op.session)?;
        let doc = self.read_payment(id)?;
        let list = wire::transactions(&doc);
        Ok((id, doc, list))
    }

    /// An operation with nothing to act on (`why`), refused before sending, with what the
    /// payment shows.
    fn nothing(&self, why: &str, doc: &wire::Doc, op: &OperationRequest) -> ProviderError {
        let said = self
            .payment(doc, op.session.currency)
            .map_or_else(|e| e.to_string(), |p| p.detail);
        self.base.config(format!("{why}: {said}"))
    }

    /// The ids of the transactions of `kind` in `list`.
    fn ids(list: &[wire::Transaction], kind: &str) -> Vec<String> {
        list.iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.id.clone())
            .collect()
    }

    /// The order's transactions: authorized, captured and refunded amounts of the succeeded
    /// ones, and every capture, void and refund (with Kassa's operation id where Kassa tagged
    /// it). The order id is the session's id: there is no other payment id to record.
    pub(super) fn read_payment_state(&self, s: &SessionRef) -> Result<PaymentState, ProviderError> {
        let id = self.order_id(s)?;
        self.payment(&self.read_payment(id)?, s.currency)
    }

    /// The whole authorization of a placed order that nothing was captured of goes through the
    /// order's `_approve_and_capture` ("approve and capture a placed order", CL:21042): one
    /// documented trigger, and the order ends `approved` as a sale whose goods were handed
    /// over should. Any other capture (a part in `manual`, the rest after a part, or an order
    /// staff approved already) is the authorization's `_capture` with `_capture_amount_cents`
    /// (CL:2014, 2025), the one trigger that takes an amount. Amounts beyond the authorization's
    /// `capture_balance_cents` are Commerce Layer's to refuse (its 422 names the balance).
    pub(super) fn capture_by_api(
        &self,
        op: &OperationRequest,
    ) -> Result<OperationAnswer, ProviderError> {
        let (id, doc, list) = self.record_of(op)?;
        let auth = wire::authorization(&list)
            .filter(|a| a.balance > 0)
            .ok_or_else(|| {
                let captured = list.iter().any(|t| t.kind == "captures" && t.succeeded);
                let why = if captured {
                    "nothing to capture (a payment method with auto_capture captures by itself)"
                } else {
                    "nothing to capture"
                };
                self.nothing(why, &doc, op)
            })?;
        let before = Self::ids(&list, "captures");
        let untouched = !list.iter().any(|t| t.kind == "captures" && t.succeeded);
        let (answer, sent) =
            if doc.data.str("status") == Some("placed") && untouched && op.amount == auth.balance {
                let body = wire::trigger("orders", id, "_approve_and_capture");
                self.trigger_on("orders", id, body, "captures")?
            } else {
                let body = wire::trigger_amount("authorizations", &auth.id, "_capture", op.amount);
                self.trigger_on("authorizations", &auth.id, body, "captures")?
            };
        self.made(&answer, "captures", &before, op, &sent)
    }

    /// A capture's `_refund` with `_refund_amount_cents` (CL:5110, 5121), as Commerce Layer's
    /// own dashboard refunds: on the newest succeeded capture whose `refund_balance_cents`
    /// covers the amount (the one Commerce Layer refunds by default). No order lines: see the
    /// module doc on returns. A refund larger than any one capture can take while the captures
    /// together could is refused before sending (Commerce Layer refunds one capture at a
    /// time); one larger than everything refundable is Commerce Layer's to refuse.
    pub(super) fn refund_capture(
        &self,
        op: &OperationRequest,
    ) -> Result<OperationAnswer, ProviderError> {
        let (_, doc, list) = self.record_of(op)?;
        let capture = wire::capture_for_refund(&list, op.amount)
            .ok_or_else(|| self.nothing("nothing captured to refund", &doc, op))?;
        // Only decides whether to send: saturating is enough (no money is computed from it).
        let refundable = list
            .iter()
            .filter(|t| t.kind == "captures" && t.succeeded)
            .fold(0i64, |sum, t| sum.saturating_add(t.balance));
        if capture.balance < op.amount && refundable >= op.amount {
            return Err(self.unsupported(
                "a refund larger than what one capture can still refund (Commerce Layer refunds \
                 one capture at a time: refund the amount in parts)",
            ));
        }
        let before = Self::ids(&list, "refunds");
        let body = wire::trigger_amount("captures", &capture.id, "_refund", op.amount);
        let (answer, sent) = self.trigger_on("captures", &capture.id, body, "refunds")?;
        self.made(&answer, "refunds", &before, op, &sent)
    }

    /// A placed order: `_cancel` ("cancel a placed order. The order's authorization will be
    /// automatically voided", CL:21019), the documented way, which also cancels the order.
    /// Any other (an order staff approved): the authorization's `_void` (CL:2100). Voiding
    /// the rest of a partly captured authorization is refused before sending: checkout.com
    /// voids authorizations nothing was captured of, and Commerce Layer documents nothing
    /// else (UNCONFIRMED); the rest lapses by itself.
    pub(super) fn void_authorization(
        &self,
        op: &OperationRequest,
    ) -> Result<OperationAnswer, ProviderError> {
        let (id, doc, list) = self.record_of(op)?;
        let auth = wire::authorization(&list)
            .ok_or_else(|| self.nothing("no authorization to void", &doc, op))?;
        let captured = list.iter().any(|t| t.kind == "captures" && t.succeeded);
        if captured && auth.balance > 0 {
            return Err(self.unsupported(
                "voiding the rest of a partly captured authorization (capture it, or let it lapse)",
            ));
        }
        let before = Self::ids(&list, "voids");
        let (answer, sent) = if doc.data.str("status") == Some("placed") {
            self.trigger_on(
                "orders",
                id,
                wire::trigger("orders", id, "_cancel"),
                "voids",
            )?
        } else {
            let body = wire::trigger("authorizations", &auth.id, "_void");
            self.trigger_on("authorizations", &auth.id, body, "voids")?
        };
        self.made(&answer, "voids", &before, op, &sent)
    }
}
