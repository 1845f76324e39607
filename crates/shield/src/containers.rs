//! The container cache: what the shield knows of each container (from `inspect`), the
//! policies that apply to it, and the cgroup ids its processes report. Kept fresh by the
//! engine's event stream; a cgroup id never seen before is resolved on the spot (from
//! `/proc/PID/cgroup` and `inspect`), so that a container's first exec is attributed.

use std::collections::{HashMap, HashSet};

use api::shield::ContainerRef;
use shield_bpf::PathRule;

use crate::attribution::container_id_of_pid;
use crate::docker::ContainerInfo;
use crate::engines::Engines;
use crate::paths::critical_rules_for_mount;
use crate::policy::{Applied, Policy, normalise_image};

/// Cgroup ids known to hold no container are remembered up to this many.
const MAX_NEGATIVE: usize = 4096;
/// How long a container no source describes stays unattributed before it is looked up again.
const RETRY_UNKNOWN: std::time::Duration = std::time::Duration::from_secs(2);

/// One known container.
#[derive(Debug, Clone)]
pub struct Container {
    pub info: ContainerInfo,
    /// The policies that apply to it.
    pub applied: Applied,
    /// The path rules installed for it (host critical files behind its bind mounts).
    pub rules: Vec<PathRule>,
}

impl Container {
    pub fn reference(&self) -> ContainerRef {
        ContainerRef {
            id: self.info.id.clone(),
            name: self.info.name.clone(),
            pod: self.info.pod.clone(),
            namespace: self.info.namespace.clone(),
        }
    }
}

/// Path rules to add to or remove from the kernel after a cache change, and cgroups to
/// watch (containers sharing the host's pid namespace, which the kernel's pid-namespace
/// filter does not see).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RuleChanges {
    pub add: Vec<PathRule>,
    pub remove: Vec<PathRule>,
    pub watch: Vec<u64>,
    pub unwatch: Vec<u64>,
    /// Rules for read-only opens: where containers see the host's critical files.
    pub add_reads: Vec<PathRule>,
    pub remove_reads: Vec<PathRule>,
    /// Containers whose read-only opens are matched (they mount host critical files).
    pub watch_reads: Vec<u64>,
}

/// The cache.
#[derive(Debug)]
pub struct Containers {
    policies: Vec<Policy>,
    by_id: HashMap<String, Container>,
    by_cgroup: HashMap<u64, String>,
    not_containers: HashSet<u64>,
    /// Cgroups of containers no source described, and since when (asked again after
    /// [`RETRY_UNKNOWN`]).
    unknown: HashMap<u64, std::time::Instant>,
    rule_refs: HashMap<PathRule, usize>,
}

impl RuleChanges {
    /// Adds the changes of `other` to these.
    pub fn merge(&mut self, other: RuleChanges) {
        self.add.extend(other.add);
        self.remove.extend(other.remove);
        self.watch.extend(other.watch);
        self.unwatch.extend(other.unwatch);
        self.add_reads.extend(other.add_reads);
        self.remove_reads.extend(other.remove_reads);
        self.watch_reads.extend(other.watch_reads);
    }
}

impl Containers {
    pub fn new(policies: Vec<Policy>) -> Containers {
        Containers {
            policies,
            by_id: HashMap::new(),
            by_cgroup: HashMap::new(),
            not_containers: HashSet::new(),
            unknown: HashMap::new(),
            rule_refs: HashMap::new(),
        }
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// Replaces the policies and works out again which apply to each container.
    pub fn set_policies(&mut self, policies: Vec<Policy>) {
        for c in self.by_id.values_mut() {
            let image = normalise_image(&c.info.image);
            c.applied = Applied::for_image(&policies, &image, &c.info.image_digests);
        }
        self.policies = policies;
    }

    /// Whether a container's mounts need this path rule.
    pub fn uses_rule(&self, rule: &PathRule) -> bool {
        self.rule_refs.contains_key(rule)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Container> {
        self.by_id.values()
    }

    pub fn get(&self, id: &str) -> Option<&Container> {
        self.by_id.get(id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Adds or refreshes a container; returns the path rules that its mounts need.
    pub fn upsert(&mut self, info: ContainerInfo) -> RuleChanges {
        let image = normalise_image(&info.image);
        let applied = Applied::for_image(&self.policies, &image, &info.image_digests);
        let mut rules: Vec<PathRule> = info.mounts.iter().flat_map(critical_rules_for_mount).collect();
        rules.dedup();
        let mut watch = Vec::new();
        let mut watch_reads = Vec::new();
        if info.running
            && info.pid > 0
            && let Ok(cgroup) = shield_bpf::process_cgroup_id(info.pid)
        {
            self.by_cgroup.insert(cgroup, info.id.clone());
            self.not_containers.remove(&cgroup);
            if info.pid_mode == "host" {
                watch.push(cgroup);
            }
            // Reading the host's critical files is reaching them: this container's reads
            // of the paths where it sees them are matched too.
            if !rules.is_empty() {
                watch_reads.push(cgroup);
            }
        }
        let mut changes = RuleChanges { watch, watch_reads, ..RuleChanges::default() };
        let old = self.by_id.insert(info.id.clone(), Container { info, applied, rules: rules.clone() });
        let old_rules = old.map(|c| c.rules).unwrap_or_default();
        for rule in rules.iter().filter(|r| !old_rules.contains(r)) {
            let count = self.rule_refs.entry(rule.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                changes.add.push(rule.clone());
            }
        }
        for rule in old_rules.iter().filter(|r| !rules.contains(r)) {
            changes.remove.extend(self.unref(rule));
        }
        // A container's rules are all host-critical paths: each is matched for reads too.
        changes.add_reads = changes.add.clone();
        changes.remove_reads = changes.remove.clone();
        changes
    }

    fn unref(&mut self, rule: &PathRule) -> Option<PathRule> {
        let count = self.rule_refs.get_mut(rule)?;
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.rule_refs.remove(rule);
            return Some(rule.clone());
        }
        None
    }

    /// Forgets a removed container; returns the path rules no other container needs.
    pub fn remove(&mut self, id: &str) -> RuleChanges {
        let mut changes = RuleChanges::default();
        if let Some(container) = self.by_id.remove(id) {
            for rule in &container.rules {
                changes.remove.extend(self.unref(rule));
            }
        }
        let cgroups: Vec<u64> = self.by_cgroup.iter().filter(|(_, c)| *c == id).map(|(g, _)| *g).collect();
        for cgroup in cgroups {
            self.by_cgroup.remove(&cgroup);
            changes.unwatch.push(cgroup);
        }
        changes.remove_reads = changes.remove.clone();
        changes
    }

    /// The container of a process, by the cgroup id its event reported; on a miss, from
    /// `/proc/TGID/cgroup` and the [`Engines`]. `changes` receives the rules a newly found
    /// container needs.
    pub fn resolve(
        &mut self,
        cgroup_id: u64,
        tgid: u32,
        engines: &Engines,
        changes: &mut RuleChanges,
    ) -> Option<&Container> {
        if let Some(id) = self.by_cgroup.get(&cgroup_id) {
            let id = id.clone();
            return self.by_id.get(&id);
        }
        if self.not_containers.contains(&cgroup_id) {
            return None;
        }
        let text = std::fs::read_to_string(format!("/proc/{tgid}/cgroup")).ok()?;
        let Some(id) = crate::attribution::container_id_from_cgroup(&text) else {
            if self.not_containers.len() >= MAX_NEGATIVE {
                self.not_containers.clear();
            }
            self.not_containers.insert(cgroup_id);
            return None;
        };
        if !self.by_id.contains_key(&id) {
            if self.unknown.get(&cgroup_id).is_some_and(|since| since.elapsed() < RETRY_UNKNOWN) {
                return None;
            }
            let Some(info) = engines.describe(&id, tgid, None) else {
                if self.unknown.len() >= MAX_NEGATIVE {
                    self.unknown.clear();
                }
                self.unknown.insert(cgroup_id, std::time::Instant::now());
                return None;
            };
            self.unknown.remove(&cgroup_id);
            changes.merge(self.upsert(info));
        }
        self.by_cgroup.insert(cgroup_id, id.clone());
        self.by_id.get(&id)
    }

    /// The container id of a live process, if the cache knows it.
    pub fn id_of_pid(&self, pid: u32) -> Option<String> {
        container_id_of_pid(pid).filter(|id| self.by_id.contains_key(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::Mount;

    fn info(id: char, mounts: Vec<Mount>) -> ContainerInfo {
        ContainerInfo {
            id: id.to_string().repeat(64),
            name: format!("c{id}"),
            image: "nginx".into(),
            mounts,
            ..Default::default()
        }
    }

    fn etc() -> Mount {
        Mount { kind: "bind".into(), source: "/etc".into(), destination: "/host/etc".into(), read_write: false }
    }

    #[test]
    fn rules_are_shared_and_removed_with_the_last_container() {
        let policies = crate::policy::parse_policies(r#"[{"name":"p","images":["nginx:latest"]}]"#).unwrap();
        let mut cache = Containers::new(policies);
        let first = cache.upsert(info('a', vec![etc()]));
        assert!(first.add.contains(&PathRule::Exact("/host/etc/shadow".into())));
        assert_eq!(cache.get(&"a".repeat(64)).unwrap().applied.names, vec!["p"]);
        let second = cache.upsert(info('b', vec![etc()]));
        assert!(second.add.is_empty());
        assert!(cache.upsert(info('b', vec![etc()])).add.is_empty());
        assert!(cache.remove(&"a".repeat(64)).remove.is_empty());
        let last = cache.remove(&"b".repeat(64));
        assert_eq!(last.remove.len(), first.add.len());
        assert!(cache.is_empty());
    }
}
