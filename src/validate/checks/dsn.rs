//! VC-8xx: DSNs.

use crate::validate::engine::Findings;
use crate::validate::message::MessageUnderValidation;

pub fn run(_m: &MessageUnderValidation, _out: &mut Findings) {}
