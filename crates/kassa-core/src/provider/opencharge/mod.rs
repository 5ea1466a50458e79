//! Opencharge (being written).

pub mod sign;
