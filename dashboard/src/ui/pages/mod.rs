//! One module per screen.

pub mod editor;
pub mod env;
pub mod flags;
pub mod history;
pub mod load;
pub mod preview;
pub mod publish;
pub mod raw;
pub mod segments;
