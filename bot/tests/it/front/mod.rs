mod answers;
mod linking;
pub mod memory;
