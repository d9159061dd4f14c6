//! Fakes of users' own traits, served beside HealthHero's endpoints (`Sandbox::serve`): a
//! request for one of their routes goes through what HealthHero's go through (`api::admit`:
//! counted, its trace context kept, faults by the endpoint's name; then the bearer token) and is then
//! answered by the fake. The fake reads the request and writes the reply itself
//! (`hh_runtime::testing::Serve`); the sandbox is the server around it.

use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hh_runtime::testing::{Serve, ServedReply, ServedRequest, find};

use crate::{State, api, identity};

/// The fakes served, in the order they were added (the first whose route matches answers).
#[derive(Default)]
pub(crate) struct Served {
    fakes: RwLock<Vec<Arc<dyn Serve>>>,
}

impl Served {
    pub(crate) fn add(&self, fake: Arc<dyn Serve>) {
        self.fakes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(fake);
    }

    fn all(&self) -> Vec<Arc<dyn Serve>> {
        self.fakes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Every served endpoint's name (`Trait.method`), for faults and counters.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.all()
            .iter()
            .flat_map(|fake| fake.routes().iter().map(|r| r.name))
            .collect()
    }
}

/// The methods served fakes answer at `path` (each once, in the order served): a request
/// with another is a 405 when no HealthHero endpoint has the path either.
pub(crate) fn allowed(state: &State, path: &str) -> Vec<Method> {
    let mut methods: Vec<Method> = Vec::new();
    for fake in state.served.all() {
        for route in fake.routes() {
            if route.matches(path).is_some() && !methods.contains(&route.method) {
                methods.push(route.method.clone());
            }
        }
    }
    methods
}

/// Answers a request for a served fake's route; `None` when no fake has the route.
pub(crate) async fn dispatch(
    state: &State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    peer: Option<&Vec<u8>>,
    body: Bytes,
) -> Option<Response> {
    let (fake, index, params) = state.served.all().into_iter().find_map(|fake| {
        let (index, params) = find(&*fake, method, uri.path())?;
        Some((fake, index, params))
    })?;
    let name = fake.routes()[index].name;
    if let Some(injected) = api::admit(state, name, headers).await {
        return Some(injected);
    }
    // A `<client_id>` in the path is a tenant, as in HealthHero's paths: the token must be
    // that client's. Without one, any valid token of a registered client will do.
    let tenant = params
        .iter()
        .find(|(placeholder, _)| *placeholder == "client_id")
        .map(|(_, value)| value.clone());
    let seen = identity::Seen {
        method,
        path: uri.path(),
        headers,
        peer: peer.map(Vec::as_slice),
    };
    let authorized = match &tenant {
        Some(tenant) => crate::resource::authorize(state, &seen, tenant).map(drop),
        None => crate::resource::authorize_any(state, &seen).map(drop),
    };
    if let Err(e) = authorized {
        return Some(e.into_response());
    }
    let request = ServedRequest {
        params,
        query: uri.query().unwrap_or("").to_owned(),
        headers: headers.clone(),
        body,
    };
    Some(match fake.handle(index, request).await {
        ServedReply::Answer(answer) => answer.map(Body::from).into_response(),
        ServedReply::Hang => {
            state.wait_for_shutdown().await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        ServedReply::Drop => api::dropped(),
    })
}
