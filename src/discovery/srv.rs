//! RFC 2782 target order: ascending priority (DISC-09), weighted random choice within one
//! priority (DISC-10).

use serde::Serialize;

use super::config::SrvRandom;

/// One SRV record's target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SrvTarget {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Target host, without the trailing dot.
    pub target: String,
}

/// The order in which to try `targets`. `invert_priority` is the `ignore_srv_priority` fault.
pub fn order_targets(
    mut targets: Vec<SrvTarget>,
    random: &dyn SrvRandom,
    invert_priority: bool,
) -> Vec<SrvTarget> {
    // RFC 2782: a single record with target "." means the service is not offered.
    targets.retain(|t| !t.target.is_empty() && t.target != ".");
    let mut priorities: Vec<u16> = targets.iter().map(|t| t.priority).collect();
    priorities.sort_unstable();
    priorities.dedup();
    if invert_priority {
        priorities.reverse();
    }
    let mut out = Vec::with_capacity(targets.len());
    for p in priorities {
        // Zero-weight records first, as RFC 2782 asks, so that they get a small chance.
        let (mut group, rest): (Vec<_>, Vec<_>) =
            targets.into_iter().partition(|t| t.priority == p);
        targets = rest;
        group.sort_by_key(|t| t.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|t| u32::from(t.weight)).sum();
            let pick = random.up_to(total);
            let mut running = 0u32;
            let mut chosen = group.len() - 1;
            for (i, t) in group.iter().enumerate() {
                running += u32::from(t.weight);
                if running >= pick {
                    chosen = i;
                    break;
                }
            }
            out.push(group.remove(chosen));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u32);
    impl SrvRandom for Fixed {
        fn up_to(&self, max: u32) -> u32 {
            self.0.min(max)
        }
    }

    fn t(priority: u16, weight: u16, target: &str) -> SrvTarget {
        SrvTarget {
            priority,
            weight,
            port: 389,
            target: target.into(),
        }
    }

    fn names(v: &[SrvTarget]) -> Vec<&str> {
        v.iter().map(|t| t.target.as_str()).collect()
    }

    #[test]
    fn priority_ascending_then_weight() {
        let recs = vec![t(1, 0, "L2"), t(0, 100, "L3"), t(0, 0, "L1")];
        // random 0: the zero-weight record is chosen first
        assert_eq!(
            names(&order_targets(recs.clone(), &Fixed(0), false)),
            ["L1", "L3", "L2"]
        );
        // any random >= 1: the weight-100 record first
        assert_eq!(
            names(&order_targets(recs.clone(), &Fixed(u32::MAX), false)),
            ["L3", "L1", "L2"]
        );
        assert_eq!(
            names(&order_targets(recs, &Fixed(0), true)),
            ["L2", "L1", "L3"]
        );
    }

    #[test]
    fn weight_distribution_roughly_follows_rfc2782() {
        let recs = vec![t(0, 0, "L1"), t(0, 100, "L3")];
        let rng = super::super::config::ThreadRandom;
        let l1_first = (0..2020)
            .filter(|_| order_targets(recs.clone(), &rng, false)[0].target == "L1")
            .count();
        // expected 20 of 2020 (1/101); generous bounds
        assert!(l1_first < 80, "{l1_first}");
    }

    #[test]
    fn dot_target_means_no_service() {
        assert!(order_targets(vec![t(0, 0, ".")], &Fixed(0), false).is_empty());
    }
}
