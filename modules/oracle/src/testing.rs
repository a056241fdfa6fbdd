//! Test scaffolding, shared through the framework.
pub use surety_framework::testing::{block, EmptyState as Empty};
