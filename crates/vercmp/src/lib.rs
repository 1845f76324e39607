//! Version ordering for every package ecosystem cguard matches. No I/O.
