//! Who works the till: the operators to pick from, logging in with an id and a PIN, logging
//! out (or switching), and a manager's PIN given on the spot for one action that needs a
//! manager (a refund by a cashier's till). With no operator configured the till runs as the
//! owner and asks nothing.
//!
//! What the desktop shows (a PIN prompt at start and on "switch operator") is the shell's; the
//! checks and the journal entries are here and in `store`.

use super::{ProviderSource, Till, TillError};
use crate::journal::Kind;
use crate::operator::{check_name, check_pin, Authenticated, OperatorError, Role};
use crate::secrets::Secret;
use crate::store::{NewEvent, NewOperator};
use crate::time::now_millis;
use serde::Serialize;

/// An operator as the login screen lists them (never the PIN's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorView {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

impl From<&Authenticated> for OperatorView {
    fn from(a: &Authenticated) -> Self {
        OperatorView {
            id: a.id(),
            name: a.name().to_string(),
            role: a.role(),
        }
    }
}

impl<P: ProviderSource> Till<P> {
    /// The operators who can log in (removed ones are left out); empty: the till runs as the
    /// owner.
    pub fn operators(&self) -> Result<Vec<OperatorView>, TillError> {
        Ok(self
            .log
            .operators()?
            .into_iter()
            .filter(|o| o.removed_ms.is_none())
            .map(|o| OperatorView {
                id: o.id,
                name: o.name,
                role: o.role,
            })
            .collect())
    }

    /// Who is at the till (`None`: operators are configured and nobody is logged in).
    pub fn current_operator(&self) -> Option<OperatorView> {
        self.operator.as_ref().map(OperatorView::from)
    }

    /// Logs operator `id` in with `pin` (the one before is logged out: a switch). A wrong PIN
    /// is journaled and refused; whoever was logged in stays.
    pub fn login(&mut self, id: i64, pin: &Secret) -> Result<OperatorView, TillError> {
        let now = now_millis();
        let who = self.log.login(id, pin, false, now)?;
        if let Some(before) = self.operator.take() {
            self.log.logout(&before, now)?;
        }
        self.approval = None;
        let view = OperatorView::from(&who);
        self.operator = Some(who);
        Ok(view)
    }

    /// Logs the operator out (journaled). With no operators configured the owner stays.
    pub fn logout(&mut self) -> Result<(), TillError> {
        let now = now_millis();
        if let Some(before) = self.operator.take() {
            self.log.logout(&before, now)?;
        }
        self.approval = None;
        self.operator = self.log.owner_if_no_operators()?;
        Ok(())
    }

    /// A manager's PIN given on the spot: operator `id` (a manager) approves the next action
    /// that needs a manager (a refund, a void, a confirmation), without taking over the till.
    pub fn approve(&mut self, id: i64, pin: &Secret) -> Result<OperatorView, TillError> {
        let who = self.log.login(id, pin, true, now_millis())?;
        who.require_manager("an approval")?;
        let view = OperatorView::from(&who);
        self.approval = Some(who);
        Ok(view)
    }

    /// Adds an operator, by a manager (the one at the till or one who approved on the spot),
    /// journaled as `kassa-cli operator add` is. `pin_again` must repeat `pin` (typed twice,
    /// hidden): a mistyped PIN would lock its owner out. Neither PIN is kept or repeated in an
    /// error. When the till ran as the owner with no PIN (no operators before), nobody is at
    /// it afterwards: the new manager logs in with the PIN just chosen.
    pub fn add_operator(
        &mut self,
        name: &str,
        role: Role,
        pin: &Secret,
        pin_again: &Secret,
    ) -> Result<OperatorView, TillError> {
        // The fields first, so a form shows every problem at once, before asking for a
        // manager's PIN.
        let mut problems = Vec::new();
        if let Err(e) = check_name(name) {
            problems.extend(TillError::from(e).problems);
        }
        match check_pin(pin) {
            Err(e) => problems.extend(TillError::from(e).problems),
            Ok(()) if pin.expose() != pin_again.expose() => {
                problems.push(OperatorError::PinsDiffer.problem())
            }
            Ok(()) => {}
        }
        if !problems.is_empty() {
            return Err(TillError::invalid(problems));
        }
        let by = self.manager("adding an operator")?;
        let op = self.log.add_operator(
            &by,
            &NewOperator {
                id: None,
                name,
                role,
                pin,
            },
            now_millis(),
        )?;
        if !by.by_pin() {
            self.operator = None;
            self.approval = None;
        }
        Ok(OperatorView {
            id: op.id,
            name: op.name,
            role: op.role,
        })
    }

    /// Removes operator `id` (they stay in the journal, and can no longer log in), by a
    /// manager, journaled as `kassa-cli operator remove` is. The last manager stays. Removing
    /// the operator at the till logs them out.
    pub fn remove_operator(&mut self, id: i64) -> Result<OperatorView, TillError> {
        let by = self.manager("removing an operator")?;
        let op = self.log.remove_operator(&by, id, now_millis())?;
        if self.operator.as_ref().is_some_and(|o| o.id() == id) {
            self.logout()?;
        }
        Ok(OperatorView {
            id: op.id,
            name: op.name,
            role: op.role,
        })
    }

    /// The operator at the till, or why nobody is.
    pub(super) fn acting(&self) -> Result<Authenticated, TillError> {
        self.operator
            .clone()
            .ok_or_else(|| OperatorError::LoginRequired.into())
    }

    /// A manager for `action`: the operator at the till if they are one, else the approval
    /// given on the spot (used up by this action).
    pub(super) fn manager(&mut self, action: &str) -> Result<Authenticated, TillError> {
        let acting = self.acting()?;
        if acting.role() != Role::Manager {
            if let Some(m) = self.approval.take().filter(|m| m.role() == Role::Manager) {
                return Ok(m);
            }
        }
        acting.require_manager(action)?;
        Ok(acting)
    }

    /// Journals a change the till made (a setting, a credential's name, a product's price) as
    /// `kind`, by the operator at the till.
    pub(super) fn journal_change(
        &mut self,
        kind: Kind,
        by: &Authenticated,
        body: serde_json::Value,
    ) -> Result<(), TillError> {
        self.log.journal_event(&NewEvent {
            kind,
            operator_id: Some(by.id()),
            session_id: None,
            ref_seq: None,
            body,
            at: now_millis(),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;
    use crate::provider::spec::SettingValues;
    use crate::provider::{Provider, ProviderError};
    use crate::store::NewOperator;
    use std::sync::Arc;

    /// No provider is needed for who is at the till.
    struct NoProviders;

    impl ProviderSource for NoProviders {
        fn get(
            &mut self,
            _: &dyn SettingValues,
            name: &str,
            _: Option<&str>,
        ) -> Result<Arc<dyn Provider>, ProviderError> {
            panic!("no provider in this test ({name})")
        }
        fn forget(&mut self) {}
    }

    fn till(name: &str) -> (std::path::PathBuf, Till<NoProviders>) {
        let dir = std::env::temp_dir().join(format!(
            "kassa-till-{name}-{}-{}",
            std::process::id(),
            now_millis()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let t = Till::open(&dir, NoProviders, crate::secrets::memory::shared()).unwrap();
        (dir, t)
    }

    #[test]
    fn a_till_without_operators_runs_as_the_owner_and_with_them_asks_for_a_pin() {
        let (dir, mut t) = till("operators");
        assert_eq!(
            t.current_operator(),
            Some(OperatorView {
                id: 1,
                name: "Owner".into(),
                role: Role::Manager
            })
        );
        let owner = t.acting().unwrap();
        let (manager_pin, cashier_pin) = (Secret::new("4412907733"), Secret::new("9021836655"));
        for (name, role, pin) in [
            ("Ola", Role::Manager, &manager_pin),
            ("Kari", Role::Cashier, &cashier_pin),
        ] {
            let by = t
                .log
                .owner_if_no_operators()
                .unwrap()
                .unwrap_or(owner.clone());
            let new = NewOperator {
                id: None,
                name,
                role,
                pin,
            };
            t.log.add_operator(&by, &new, now_millis()).unwrap();
        }
        // A till opened now has operators: nobody is at it until a PIN is given.
        let mut t = Till::open(&dir, NoProviders, crate::secrets::memory::shared()).unwrap();
        assert_eq!(t.current_operator(), None);
        assert_eq!(t.operators().unwrap().len(), 2);
        let e = t.set_setting("shop.name", "Bakeriet").unwrap_err();
        assert_eq!(e.code, Code::LoginRequired);
        let e = t.login(2, &Secret::new("1111")).unwrap_err();
        assert_eq!(e.code, Code::WrongPin);
        assert_eq!(t.login(2, &cashier_pin).unwrap().name, "Kari");
        // A cashier changes no setting, unless a manager gives their PIN on the spot, for one
        // change.
        let e = t.set_setting("shop.name", "Bakeriet").unwrap_err();
        assert_eq!(e.code, Code::ManagerRequired);
        assert_eq!(
            t.approve(2, &cashier_pin).unwrap_err().code,
            Code::ManagerRequired
        );
        t.approve(1, &manager_pin).unwrap();
        t.set_setting("shop.name", "Bakeriet").unwrap();
        let e = t.set_setting("shop.name", "Kafeen").unwrap_err();
        assert_eq!(
            e.code,
            Code::ManagerRequired,
            "an approval is good for one action"
        );
        // A switch logs the one before out.
        t.login(1, &manager_pin).unwrap();
        t.set_setting("shop.name", "Kafeen").unwrap();
        t.logout().unwrap();
        assert_eq!(t.current_operator(), None);
        let kinds: Vec<crate::journal::Kind> = t
            .log
            .journal_entries(&Default::default())
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        use crate::journal::Kind::*;
        assert_eq!(
            kinds,
            [
                AppStart,
                OperatorChange,
                OperatorChange,
                AppStart,
                LoginFailed,
                Login,
                Login, // Kari's PIN given as an approval: right, but she is no manager
                Login,
                SettingsChange,
                Login,
                Logout,
                SettingsChange,
                Logout
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_manager_adds_and_removes_operators_on_the_till_journaled_as_the_cli_does() {
        let (dir, mut t) = till("manage");
        let (ola_pin, kari_pin) = (Secret::new("5820194736"), Secret::new("3391027458"));
        // Every field problem at once, coded for the UI; the PINs never in the text.
        let e = t
            .add_operator(" ", Role::Manager, &Secret::new("12a"), &Secret::new("12a"))
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidInput);
        let codes: Vec<_> = e
            .problems
            .iter()
            .map(|p| (p.path.as_str(), p.code))
            .collect();
        use crate::field_code::FieldCode;
        assert_eq!(
            codes,
            [
                ("name", Some(FieldCode::TextLength)),
                ("pin", Some(FieldCode::Pin))
            ]
        );
        let e = t
            .add_operator("Ola", Role::Manager, &ola_pin, &Secret::new("5820194737"))
            .unwrap_err();
        assert_eq!(e.problems[0].path, "pin_again");
        assert_eq!(e.problems[0].code, Some(FieldCode::PinsDiffer));
        assert!(!e.message.contains("582019473"), "{}", e.message);
        // The first must be a manager.
        let e = t
            .add_operator("Kari", Role::Cashier, &kari_pin, &kari_pin)
            .unwrap_err();
        assert!(
            e.message.contains("first operator must be a manager"),
            "{}",
            e.message
        );
        // The owner adds the first manager; nobody is at the till afterwards.
        let ola = t
            .add_operator("Ola", Role::Manager, &ola_pin, &ola_pin)
            .unwrap();
        assert_eq!((ola.id, ola.role), (1, Role::Manager));
        assert_eq!(t.current_operator(), None);
        let e = t
            .add_operator("Kari", Role::Cashier, &kari_pin, &kari_pin)
            .unwrap_err();
        assert_eq!(e.code, Code::LoginRequired);
        t.login(1, &ola_pin).unwrap();
        let kari = t
            .add_operator("Kari", Role::Cashier, &kari_pin, &kari_pin)
            .unwrap();
        assert_eq!(kari.id, 2);
        // A cashier adds nobody and removes nobody, unless a manager approves on the spot.
        t.login(2, &kari_pin).unwrap();
        let pia_pin = Secret::new("7719304562");
        let e = t
            .add_operator("Pia", Role::Cashier, &pia_pin, &pia_pin)
            .unwrap_err();
        assert_eq!(e.code, Code::ManagerRequired);
        assert_eq!(
            t.remove_operator(1).unwrap_err().code,
            Code::ManagerRequired
        );
        t.approve(1, &ola_pin).unwrap();
        assert_eq!(
            t.add_operator("Pia", Role::Cashier, &pia_pin, &pia_pin)
                .unwrap()
                .id,
            3
        );
        // The last manager stays; removing the one at the till logs them out.
        t.login(1, &ola_pin).unwrap();
        let e = t.remove_operator(1).unwrap_err();
        assert!(e.message.contains("last manager"), "{}", e.message);
        t.remove_operator(3).unwrap();
        assert_eq!(
            t.operators()
                .unwrap()
                .iter()
                .map(|o| o.id)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        let changes: Vec<String> = t
            .log
            .journal_entries(&Default::default())
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == crate::journal::Kind::OperatorChange)
            .map(|e| e.body)
            .collect();
        assert_eq!(changes.len(), 4, "{changes:?}");
        let text = changes.join("\n");
        let actions: Vec<serde_json::Value> = changes
            .iter()
            .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap()["action"].clone())
            .collect();
        assert_eq!(actions, ["added", "added", "added", "removed"], "{text}");
        for pin in [&ola_pin, &kari_pin, &pia_pin] {
            assert!(!text.contains(pin.expose()), "{text}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
