//! [`Fetched`] and [`Job`]: a `LocalResource` and an `Action` whose value and input types are
//! erased, so the pages' background fetches and actions share one copy of Leptos's async
//! machinery.
//!
//! `LocalResource<T>` is generic over its value and its future: each page's resource was its own
//! copy of the async-derived signal, its scheduling and its read guards. Here every resource is
//! one `LocalResource<Rc<dyn Any>>` built in one non-generic function; only the boxing of the
//! page's future and the downcast on read are per type (dashboard/README.md "Figures").

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;

type Erased = Rc<dyn Any>;
type Source = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Erased>>>>;

/// A value fetched in the background, refetched when a signal its source reads changes.
pub struct Fetched<T> {
    inner: LocalResource<Erased>,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Fetched<T> {}

impl<T: Clone + 'static> Fetched<T> {
    /// Like `LocalResource::new`: `source` runs (tracking the signals it reads) and its future
    /// gives the value.
    pub fn new<Fut: Future<Output = T> + 'static>(source: impl Fn() -> Fut + 'static) -> Self {
        let source: Source = Box::new(move || {
            let future = source();
            Box::pin(async move { Rc::new(future.await) as Erased })
        });
        Self { inner: erased(source), value: PhantomData }
    }

    /// The latest value (tracked), `None` until the first fetch is done.
    pub fn get(&self) -> Option<T> {
        // The value is always a `T`: only `new` puts one in.
        self.inner.get().and_then(|v| v.downcast_ref::<T>().cloned())
    }

    pub fn refetch(&self) {
        self.inner.refetch();
    }
}

fn erased(source: Source) -> LocalResource<Erased> {
    LocalResource::new(move || source())
}

type Input = Arc<dyn Any + Send + Sync>;
type Run = Box<dyn Fn(&Input) -> Pin<Box<dyn Future<Output = ()>>>>;

/// `Action::new_local` with its input and future erased, for the same reason as [`Fetched`]:
/// the pages' actions (publish, roll back, load, the canary's manual actions…) share one copy
/// of Leptos's action machinery.
pub struct Job<I> {
    inner: Action<Input, ()>,
    input: PhantomData<fn(I)>,
}

impl<I> Clone for Job<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for Job<I> {}

impl<I: Send + Sync + 'static> Job<I> {
    pub fn new<Fut: Future<Output = ()> + 'static>(run: impl Fn(&I) -> Fut + 'static) -> Self {
        let run: Run = Box::new(move |input: &Input| match input.downcast_ref::<I>() {
            Some(input) => Box::pin(run(input)),
            // Unreachable: only `dispatch` puts an input in, and it is an `I`.
            None => Box::pin(async {}),
        });
        Self { inner: erased_job(run), input: PhantomData }
    }

    pub fn dispatch(&self, input: I) {
        self.inner.dispatch(Arc::new(input));
    }

    /// True while a dispatched run has not finished.
    pub fn pending(&self) -> Memo<bool> {
        self.inner.pending()
    }
}

fn erased_job(run: Run) -> Action<Input, ()> {
    Action::new_local(move |input: &Input| run(input))
}
