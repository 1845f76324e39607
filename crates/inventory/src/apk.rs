//! apk package database (placeholder).

use crate::analyzer::Analyzer;

pub fn analyzer() -> Box<dyn Analyzer> {
    Box::new(crate::lang::Nothing)
}
