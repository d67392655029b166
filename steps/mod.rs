//! Step definitions for the Gherkin features in `features/`, and the World that holds one
//! scenario's state. The suite itself arrives with the conformance-suite issue; the World is
//! here so that the binary is already wired to it.

pub mod world;

#[allow(unused_imports)]
pub use world::DirectWorld;
