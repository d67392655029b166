//! Makes the SUT's edge client act: runs `sut.toml [edge_client] command` with `sh -c`, the
//! job in `DC_EDGE_*` variables, bounded by the declared timeout (the process is killed
//! after it). What it printed is kept as evidence.

use std::process::Stdio;

use super::config::EdgeClientTrigger;

/// What the command did.
#[derive(Clone, Debug, Default)]
pub struct Triggered {
    /// Exit status; `None` when it could not start or was killed.
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Why it did not finish (could not start, timed out).
    pub problem: Option<String>,
}

impl Triggered {
    /// The evidence text: the job, the exit, and what the command printed.
    pub fn evidence(&self, vars: &[(String, String)]) -> String {
        let mut t = String::new();
        for (k, v) in vars {
            let v = if k.contains("PASSWORD") {
                "********"
            } else {
                v
            };
            t.push_str(&format!("{k}={v}\n"));
        }
        match (&self.problem, self.status) {
            (Some(p), _) => t.push_str(&format!("# {p}\n")),
            (None, Some(c)) => t.push_str(&format!("# exit status {c}\n")),
            (None, None) => t.push_str("# ended by a signal\n"),
        }
        if !self.stdout.is_empty() {
            t.push_str(&format!("--- stdout\n{}", self.stdout));
        }
        if !self.stderr.is_empty() {
            t.push_str(&format!("--- stderr\n{}", self.stderr));
        }
        t
    }
}

/// Runs the trigger with `vars` (plus the trigger's own variables).
pub async fn run(trigger: &EdgeClientTrigger, vars: &[(String, String)]) -> Triggered {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&trigger.command)
        .envs(trigger.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Triggered {
                problem: Some(format!("could not start `sh -c {}`: {e}", trigger.command)),
                ..Triggered::default()
            };
        }
    };
    match tokio::time::timeout(trigger.timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => Triggered {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            problem: None,
        },
        Ok(Err(e)) => Triggered {
            problem: Some(format!("waiting for the command: {e}")),
            ..Triggered::default()
        },
        // Dropping the future drops the child, which kill_on_drop kills.
        Err(_) => Triggered {
            problem: Some(format!(
                "the command did not finish within {:?} and was killed",
                trigger.timeout
            )),
            ..Triggered::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn trigger(command: &str, secs: u64) -> EdgeClientTrigger {
        EdgeClientTrigger {
            command: command.into(),
            timeout: Duration::from_secs(secs),
            env: vec![("DC_FIXED".into(), "1".into())],
        }
    }

    #[tokio::test]
    async fn passes_the_job_and_keeps_the_output() {
        let t = run(
            &trigger("echo $DC_FIXED $DC_EDGE_ACTION; echo oops >&2; exit 3", 10),
            &[("DC_EDGE_ACTION".into(), "send".into())],
        )
        .await;
        assert_eq!(t.status, Some(3));
        assert_eq!(t.stdout, "1 send\n");
        assert_eq!(t.stderr, "oops\n");
        let ev = t.evidence(&[("DC_EDGE_PASSWORD".into(), "secret".into())]);
        assert!(ev.contains("DC_EDGE_PASSWORD=********"), "{ev}");
        assert!(!ev.contains("secret"));
    }

    #[tokio::test]
    async fn a_hanging_command_is_killed_at_its_timeout() {
        let t = run(&trigger("sleep 30", 1), &[]).await;
        assert!(
            t.problem.as_deref().is_some_and(|p| p.contains("killed")),
            "{t:?}"
        );
    }
}
