//! The number of proptest cases: `PROPTEST_CASES` from the environment when set (for a long
//! run), else each test's default.
#![allow(dead_code)]

use proptest::prelude::ProptestConfig;

pub fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}
