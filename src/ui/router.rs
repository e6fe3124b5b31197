//! The page's side of the routes in `flows::route`: the current route as a
//! signal that follows `hashchange` (typed fragments, links, back and
//! forward), and navigation by setting `location.hash`.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::flows::route::Route;

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|w| w.location())
}

/// The route the address names now.
pub fn current() -> Route {
    Route::parse(&location().and_then(|l| l.hash().ok()).unwrap_or_default())
}

/// Goes to `route`: a new history entry, so that Back returns.
pub fn go(route: &Route) {
    if let Some(l) = location() {
        let _ = l.set_hash(&route.format());
    }
}

/// The current route, provided to the page once.
pub fn provide() -> ReadSignal<Route> {
    let (route, set_route) = signal(current());
    let on_hash = Closure::<dyn FnMut()>::new(move || {
        let now = current();
        if route.get_untracked() != now {
            set_route.set(now);
        }
    });
    // A listener, not `onhashchange`: the shell and the pages module
    // (`ui::bridge`) each follow the address.
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
    }
    on_hash.forget();
    provide_context(route);
    route
}

pub fn use_route() -> ReadSignal<Route> {
    expect_context::<ReadSignal<Route>>()
}
