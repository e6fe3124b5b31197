//! The page's [`TokenSource`] (where the API client gets a bearer token, for
//! every request; the fixed tokens of `ApiClient::with_graph_token` and
//! `with_arm_token` are the other kind, which renews nothing):
//! - [`RefreshingTokens`]: the page's source, over one [`SharedTokens`] cache
//!   that every client of the session reads (the subscriptions loader and an
//!   apply never take it from each other). A token within
//!   [`EXPIRY_MARGIN_SECONDS`](super::tokens::EXPIRY_MARGIN_SECONDS) of its expiry is renewed through the refresh
//!   token, by one request at a time per API: whoever asks while a renewal
//!   is under way waits for that one.
//!
//! The page is single-threaded (wasm), so the cache is an `Rc<RefCell<…>>`;
//! no borrow is held across an await.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token

use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};
use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::pkce::SignInConfig;
use super::tokens::{Account, Audience, TokenCache, TokenError, refresh};
use crate::api_error::{ApiError, Service};
use crate::client::{ApiClient, TokenFuture, TokenSource};
use crate::core::time::UnixTime;
use crate::http::{HttpClient, RetryPolicy, Sleeper};

/// One renewal under way: its outcome, once known, and who waits for it.
#[derive(Default)]
struct Flight {
    outcome: RefCell<Option<Result<String, TokenError>>>,
    waiters: RefCell<Vec<Waker>>,
}

impl Flight {
    fn land(&self, outcome: Result<String, TokenError>) {
        *self.outcome.borrow_mut() = Some(outcome);
        for waker in self.waiters.take() {
            waker.wake();
        }
    }

    async fn wait(self: Rc<Self>) -> Result<String, TokenError> {
        poll_fn(|cx| match &*self.outcome.borrow() {
            Some(outcome) => Poll::Ready(outcome.clone()),
            None => {
                self.waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

#[derive(Default)]
struct Inner {
    cache: RefCell<TokenCache>,
    flights: RefCell<BTreeMap<Audience, Rc<Flight>>>,
    /// Bumped by a new sign-in or a sign-out, so that a renewal started
    /// before it does not write into the new session.
    generation: Cell<u64>,
    refreshes: Cell<u32>,
}

/// The session's token cache, shared by every API client of the page
/// (cloning shares it). Memory only.
#[derive(Clone, Default)]
pub struct SharedTokens(Rc<Inner>);

impl SharedTokens {
    pub fn new(cache: TokenCache) -> Self {
        let shared = SharedTokens::default();
        *shared.0.cache.borrow_mut() = cache;
        shared
    }

    /// Puts a new sign-in's tokens in place of the old ones.
    pub fn replace(&self, cache: TokenCache) {
        self.0.generation.set(self.0.generation.get() + 1);
        *self.0.cache.borrow_mut() = cache;
    }

    /// Forgets every token (sign-out).
    pub fn clear(&self) {
        self.replace(TokenCache::default());
    }

    /// Reads the cache (the borrow ends with `f`).
    pub fn with<R>(&self, f: impl FnOnce(&TokenCache) -> R) -> R {
        f(&self.0.cache.borrow())
    }

    /// See [`TokenCache::missing_scopes`].
    pub fn missing_scopes(&self, audience: Audience, needed: &[&str]) -> Vec<String> {
        self.with(|c| c.missing_scopes(audience, needed))
    }

    pub fn account(&self) -> Option<Account> {
        self.with(|c| c.account().cloned())
    }

    /// Requests sent to the token endpoint to renew a token so far.
    pub fn refreshes(&self) -> u32 {
        self.0.refreshes.get()
    }

    /// A token source over this cache that renews through `http` (the
    /// token endpoint of `config`'s cloud, with the page's `origin`), with
    /// `clock` for expiry.
    pub fn source<'a, C: HttpClient, S: Sleeper, K: Fn() -> UnixTime>(
        &self,
        http: &'a C,
        sleeper: &'a S,
        config: SignInConfig,
        origin: impl Into<String>,
        clock: K,
    ) -> RefreshingTokens<'a, C, S, K> {
        RefreshingTokens {
            shared: self.clone(),
            http,
            sleeper,
            config,
            origin: origin.into(),
            clock,
        }
    }
}

/// The page's token source: the shared cache, renewed through the
/// refresh token when a token nears its expiry or an API refused it. `K` is
/// the clock (the page's: `web::clock::now`).
pub struct RefreshingTokens<'a, C, S, K> {
    shared: SharedTokens,
    http: &'a C,
    sleeper: &'a S,
    config: SignInConfig,
    origin: String,
    clock: K,
}

/// Lands a flight and takes it off the board however its leader ends
/// (an abandoned leader lands [`TokenError::Interrupted`]).
struct Leading<'i> {
    inner: &'i Inner,
    audience: Audience,
    flight: Rc<Flight>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if self.flight.outcome.borrow().is_none() {
            self.flight.land(Err(TokenError::Interrupted));
        }
        let mut flights = self.inner.flights.borrow_mut();
        if flights
            .get(&self.audience)
            .is_some_and(|f| Rc::ptr_eq(f, &self.flight))
        {
            flights.remove(&self.audience);
        }
    }
}

impl<C: HttpClient, S: Sleeper, K: Fn() -> UnixTime> RefreshingTokens<'_, C, S, K> {
    async fn get(&self, audience: Audience, refused: Option<&str>) -> Result<String, TokenError> {
        let inner = &*self.shared.0;
        let now = (self.clock)();
        let cached = inner
            .cache
            .borrow()
            .access_token(audience, now)
            .map(str::to_string);
        if let Some(token) = cached
            && Some(token.as_str()) != refused
        {
            return Ok(token);
        }
        let under_way = inner.flights.borrow().get(&audience).cloned();
        if let Some(flight) = under_way {
            return flight.wait().await;
        }
        let leading = Leading {
            inner,
            audience,
            flight: Rc::new(Flight::default()),
        };
        inner
            .flights
            .borrow_mut()
            .insert(audience, leading.flight.clone());
        let outcome = self.renew(inner, audience, now).await;
        leading.flight.land(outcome.clone());
        outcome
    }

    /// One request to the token endpoint; the answer goes into the cache.
    async fn renew(
        &self,
        inner: &Inner,
        audience: Audience,
        now: UnixTime,
    ) -> Result<String, TokenError> {
        let generation = inner.generation.get();
        let refresh_token = inner
            .cache
            .borrow()
            .refresh_token()
            .map(|t| Zeroizing::new(t.to_string()))
            .ok_or(TokenError::NotSignedIn)?;
        let api = ApiClient::new(
            self.http,
            self.sleeper,
            self.config.cloud.endpoints(),
            RetryPolicy::default(),
            now.0,
            now,
        );
        inner.refreshes.set(inner.refreshes.get() + 1);
        let set = refresh(
            &api,
            &self.config,
            &refresh_token,
            audience,
            &self.origin,
            now,
        )
        .await?;
        let token = set.access_token.to_string();
        if inner.generation.get() == generation {
            inner.cache.borrow_mut().store(audience, set);
        }
        Ok(token)
    }
}

impl<C: HttpClient, S: Sleeper, K: Fn() -> UnixTime> TokenSource for RefreshingTokens<'_, C, S, K> {
    fn token<'s>(&'s self, service: Service, refused: Option<&'s str>) -> TokenFuture<'s> {
        let audience = match service {
            Service::Arm => Audience::Arm,
            Service::Graph | Service::Identity => Audience::Graph,
        };
        Box::pin(async move {
            self.get(audience, refused)
                .await
                .map_err(|error| match error {
                    TokenError::NotSignedIn => ApiError::NotSignedIn(service),
                    TokenError::Api(e @ ApiError::Transport(_)) => e,
                    other => ApiError::SignIn {
                        service,
                        message: other.to_string(),
                    },
                })
        })
    }
    fn can_refresh(&self) -> bool {
        true
    }
    fn holds(&self, _: Service) -> bool {
        self.shared.with(|c| c.refresh_token().is_some())
    }
}

#[cfg(test)]
mod tests {
    use core::future::Future;
    use core::pin::{Pin, pin};
    use core::task::Context;

    use super::*;
    use crate::cloud::Cloud;
    use crate::http::{HttpRequest, HttpResponse, TransportError};

    /// Answers the token endpoint once `open`, with a new access token.
    #[derive(Default)]
    struct Gate {
        open: Cell<bool>,
        sent: Cell<u32>,
    }

    impl HttpClient for Gate {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.sent.set(self.sent.get() + 1);
            poll_fn(|_| match self.open.get() {
                true => Poll::Ready(()),
                false => Poll::Pending,
            })
            .await;
            Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: br#"{"access_token": "renewed", "expires_in": 3600}"#.to_vec(),
            })
        }
    }

    struct NoWait;
    impl Sleeper for NoWait {
        async fn sleep(&self, _: u64) {}
    }

    const NOW: UnixTime = UnixTime(1_800_000_000);

    /// A session whose Graph token expired, with its refresh token.
    fn expired() -> SharedTokens {
        let body = br#"{"access_token": "old", "refresh_token": "rt", "expires_in": 60}"#;
        let response = HttpResponse {
            status: 200,
            headers: vec![],
            body: body.to_vec(),
        };
        let mut cache = TokenCache::default();
        cache.store(
            Audience::Graph,
            super::super::tokens::parse_response(&response, NOW).unwrap(),
        );
        SharedTokens::new(cache)
    }

    fn config() -> SignInConfig {
        SignInConfig {
            cloud: Cloud::Global,
            tenant: "organizations".into(),
            client_id: "c".into(),
            redirect_uri: "https://w/".into(),
        }
    }

    fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn an_abandoned_renewal_frees_whoever_waits_for_it() {
        let tokens = expired();
        let http = Gate::default();
        let source = tokens.source(&http, &NoWait, config(), "https://w", || NOW);
        let mut waiter = pin!(source.get(Audience::Graph, None));
        {
            let mut leader = pin!(source.get(Audience::Graph, None));
            assert!(poll(leader.as_mut()).is_pending());
            assert!(poll(waiter.as_mut()).is_pending());
            assert_eq!(http.sent.get(), 1, "the waiter sent nothing");
        }
        // The leader was dropped mid-request (its page navigated away).
        assert_eq!(
            poll(waiter.as_mut()),
            Poll::Ready(Err(TokenError::Interrupted))
        );
        // The next caller renews afresh.
        http.open.set(true);
        let mut again = pin!(source.get(Audience::Graph, None));
        assert_eq!(poll(again.as_mut()), Poll::Ready(Ok("renewed".to_string())));
        assert_eq!(http.sent.get(), 2);
        assert_eq!(tokens.refreshes(), 2);
        assert_eq!(
            tokens.with(|c| c.access_token(Audience::Graph, NOW).map(str::to_string)),
            Some("renewed".into())
        );
    }

    #[test]
    fn a_renewal_started_before_a_sign_out_does_not_fill_the_new_session() {
        let tokens = expired();
        let http = Gate::default();
        let source = tokens.source(&http, &NoWait, config(), "https://w", || NOW);
        let mut renewal = pin!(source.token(Service::Graph, None));
        assert!(poll(renewal.as_mut()).is_pending());
        tokens.clear();
        http.open.set(true);
        // The caller that asked still gets its token; the cache stays empty.
        assert_eq!(
            poll(renewal.as_mut()),
            Poll::Ready(Ok("renewed".to_string()))
        );
        assert!(tokens.with(|c| c.access_token(Audience::Graph, NOW).is_none()));
        // Signed out: no refresh token, no request.
        let mut after = pin!(source.token(Service::Graph, None));
        assert_eq!(
            poll(after.as_mut()),
            Poll::Ready(Err(ApiError::NotSignedIn(Service::Graph)))
        );
        assert_eq!(http.sent.get(), 1);
    }
}
