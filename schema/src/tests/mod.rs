//! Cross-module tests of the model: JSON round trips, every validation rule, and
//! order-independent case derivation.

mod derive;
mod fixtures;
mod roundtrip;
mod validation;
