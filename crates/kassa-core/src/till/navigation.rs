//! Where an embedded checkout window may go ([`navigation`]): the checkout page's origin, the
//! provider's own https domains (from its spec), and the return URL, which ends the page. The
//! desktop shell asks this for every navigation of a checkout window.

/// Where an embedded checkout page tries to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    /// The checkout page or another page of the provider.
    Allow,
    /// The return URL: the customer is done. Only a hint: the status is asked from the
    /// provider.
    Returned,
    /// Anywhere else: refused.
    Block,
}

/// `scheme://host[:port]` of a URL, lowercased; `None` for anything that is not http(s).
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    Some(format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

fn host(origin: &str) -> &str {
    let hp = origin.split_once("://").map_or(origin, |(_, r)| r);
    match hp.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => hp,
    }
}

/// Where the embedded checkout window may navigate: the checkout URL's origin, https pages on
/// the provider's own domains (`provider_domains`, e.g. `dintero.com` allows
/// `checkout.dintero.com`), and the return URL, which ends the page.
pub fn navigation(
    checkout_url: &str,
    provider_domains: &[&str],
    return_url: &str,
    target: &str,
) -> Navigation {
    let Some(to) = origin(target) else {
        // about:blank and data: frames the page itself makes carry no navigation power.
        return if target == "about:blank" {
            Navigation::Allow
        } else {
            Navigation::Block
        };
    };
    let path_of = |u: &str| {
        u.split_once("://")
            .and_then(|(_, r)| {
                r.find('/')
                    .map(|i| r[i..].split(['?', '#']).next().unwrap_or("/").to_string())
            })
            .unwrap_or_else(|| "/".into())
    };
    if origin(return_url).as_deref() == Some(to.as_str())
        && path_of(target).starts_with(&path_of(return_url))
    {
        return Navigation::Returned;
    }
    if origin(checkout_url).as_deref() == Some(to.as_str()) {
        return Navigation::Allow;
    }
    let h = host(&to);
    if to.starts_with("https://")
        && provider_domains
            .iter()
            .any(|d| h == *d || h.ends_with(&format!(".{d}")))
    {
        return Navigation::Allow;
    }
    Navigation::Block
}

/// The domains a provider's hosted checkout pages live on (see [`navigation`]): its spec's
/// [`checkout_domains`](crate::provider::spec::Spec::checkout_domains); none for the demo
/// provider, whose page is on the checkout URL's origin.
pub fn provider_domains(provider: &str) -> &'static [&'static str] {
    crate::provider::spec(provider).map_or(&[], |s| s.checkout_domains)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_windows_stay_on_the_provider_and_stop_at_the_return_url() {
        let co = "http://127.0.0.1:4100/dintero/v1/view/T1.abc";
        let ret = "https://kassa.invalid/return";
        let nav = |to: &str| navigation(co, &["dintero.com"], ret, to);
        assert_eq!(
            nav("http://127.0.0.1:4100/dintero/v1/view/T1.abc/pay"),
            Navigation::Allow
        );
        assert_eq!(nav("https://checkout.dintero.com/v1/x"), Navigation::Allow);
        assert_eq!(nav("https://dintero.com/"), Navigation::Allow);
        assert_eq!(
            nav("https://kassa.invalid/return?transaction_id=T1"),
            Navigation::Returned
        );
        assert_eq!(nav("https://kassa.invalid/other"), Navigation::Block);
        assert_eq!(
            nav("http://checkout.dintero.com/"),
            Navigation::Block,
            "https only"
        );
        assert_eq!(nav("https://evil-dintero.com/"), Navigation::Block);
        assert_eq!(nav("https://dintero.com.evil.example/"), Navigation::Block);
        assert_eq!(
            nav("http://127.0.0.1:4101/"),
            Navigation::Block,
            "another port"
        );
        assert_eq!(nav("file:///etc/passwd"), Navigation::Block);
        assert_eq!(nav("tauri://localhost/index.html"), Navigation::Block);
        assert_eq!(nav("about:blank"), Navigation::Allow);
    }
}
