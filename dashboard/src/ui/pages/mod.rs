//! One module per screen.

pub mod canary;
pub mod editor;
pub mod experiment;
pub mod flag_choice;
pub mod env;
pub mod flags;
pub mod history;
pub mod load;
pub mod preview;
pub mod publish;
pub mod raw;
pub mod segments;
