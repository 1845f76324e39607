//! The JSON that crosses process boundaries: REST resources of `cguard server` and the
//! protocol between the shield and the server. Types only; no logic beyond validation
//! helpers that both sides must agree on.

pub mod audit;
pub mod detections;
pub mod iam;
pub mod images;
pub mod page;
pub mod policy;
pub mod problem;
pub mod protection;
pub mod shield;
pub mod vulns;

pub use page::{Page, PageQuery};
pub use problem::Problem;
