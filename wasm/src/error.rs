//! One error type per operation (Automerge style), converted to a JS `Error` in one place:
//! [`js_error`]. Every thrown error has `name = "EdgeflagError"`, a stable `code` and a
//! `problems` array (`[{path, message}]`, empty unless the input had located problems).

use edgeflag_evaluator::{ContextError, Problem, ValidationErrors};
use wasm_bindgen::JsValue;

/// Why a JS value could not be read as text (shared by every input).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{what} must be {expected}, got {got}")]
    WrongType { what: &'static str, expected: &'static str, got: String },
    #[error("{what} is too large: {len} characters, the limit is {limit}")]
    TooLarge { what: &'static str, len: u32, limit: u32 },
    #[error("{what} could not be converted to JSON: {reason}")]
    NotJson { what: &'static str, reason: String },
}

/// Loading or replacing a flag file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Input(#[from] InputError),
    /// Displays as "invalid flag file (N problems)" then one "path: message" per line.
    #[error(transparent)]
    Invalid(ValidationErrors),
}

/// Reading an evaluation context.
#[derive(Debug, thiserror::Error)]
pub enum ContextInputError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Invalid(#[from] ContextError),
}

/// Evaluating flags.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error(transparent)]
    Argument(#[from] InputError),
    #[error(transparent)]
    Context(#[from] ContextInputError),
    #[error("unknown flag kind {}: expected \"boolean\", \"string\", \"number\" or \"json\"", edgeflag_readers::json_text::json_quoted(.0))]
    Kind(String),
    #[error("could not build the result: {0}")]
    Output(String),
}

/// Evaluating an Unleash payload (feature `unleash`).
#[derive(Debug, thiserror::Error)]
pub enum UnleashError {
    #[error(transparent)]
    Argument(#[from] InputError),
    #[error("Unleash payload: {0}")]
    Payload(ValidationErrors),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("could not build the result: {0}")]
    Output(String),
}

/// Computing a hash or bucket.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Argument(#[from] InputError),
}

/// The stable machine-readable part of an error, for `error.code` in JS.
trait ErrorInfo: std::fmt::Display {
    fn code(&self) -> &'static str;
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn problems(&self) -> &[Problem] {
        &[]
    }
}

impl ErrorInfo for InputError {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn code(&self) -> &'static str {
        match self {
            InputError::TooLarge { .. } => "INPUT_TOO_LARGE",
            InputError::WrongType { .. } | InputError::NotJson { .. } => "INVALID_ARGUMENT",
        }
    }
}

impl ErrorInfo for LoadError {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn code(&self) -> &'static str {
        match self {
            LoadError::Input(e) => e.code(),
            LoadError::Invalid(_) => "INVALID_FLAG_FILE",
        }
    }
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Invalid(errors) => &errors.problems,
            LoadError::Input(_) => &[],
        }
    }
}

impl ErrorInfo for ContextInputError {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn code(&self) -> &'static str {
        match self {
            ContextInputError::Input(InputError::TooLarge { .. }) => "INPUT_TOO_LARGE",
            ContextInputError::Input(_) | ContextInputError::Invalid(_) => "INVALID_CONTEXT",
        }
    }
}

impl ErrorInfo for EvaluateError {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn code(&self) -> &'static str {
        match self {
            EvaluateError::Argument(e) => e.code(),
            EvaluateError::Context(e) => e.code(),
            EvaluateError::Kind(_) => "INVALID_ARGUMENT",
            EvaluateError::Output(_) => "INTERNAL",
        }
    }
}

impl ErrorInfo for UnleashError {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn code(&self) -> &'static str {
        match self {
            UnleashError::Argument(e) => e.code(),
            UnleashError::Payload(_) => "INVALID_FLAG_FILE",
            UnleashError::Context(_) => "INVALID_CONTEXT",
            UnleashError::Output(_) => "INTERNAL",
        }
    }
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn problems(&self) -> &[Problem] {
        match self {
            UnleashError::Payload(errors) => &errors.problems,
            _ => &[],
        }
    }
}

impl ErrorInfo for HashError {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn code(&self) -> &'static str {
        match self {
            HashError::Argument(e) => e.code(),
        }
    }
}

/// The one place a Rust error becomes a JS `Error`.
#[cfg_attr(edgeflag_size, optimize(size))]
fn js_error(error: &dyn ErrorInfo) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("EdgeflagError");
    let problems = js_sys::Array::new();
    for problem in error.problems() {
        let item = js_sys::Object::new();
        // Reflect.set on a fresh plain object cannot fail; ignoring keeps this total.
        let _ = js_sys::Reflect::set(&item, &"path".into(), &problem.path.as_str().into());
        let _ = js_sys::Reflect::set(&item, &"message".into(), &problem.message.as_str().into());
        problems.push(&item);
    }
    let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
    let _ = js_sys::Reflect::set(&js, &"problems".into(), &problems);
    js.into()
}

macro_rules! into_js_error {
    ($($t:ty),*) => {$(
        impl From<$t> for JsValue {
            #[cfg_attr(edgeflag_size, optimize(size))]
            fn from(error: $t) -> JsValue {
                js_error(&error)
            }
        }
    )*};
}

into_js_error!(InputError, LoadError, ContextInputError, EvaluateError, UnleashError, HashError);
