//! What `aerie pxe serve` shows: at a terminal a progress bar per node
//! (DHCP seen → script → kernel → kickstart → install done → first boot)
//! with other events above them; otherwise a line per event, or JSON lines.

use crate::cli::OutputFormat;
use crate::netboot::{Event, Phase, ServerInfo, Shared};
use crate::site::Site;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

#[derive(Clone)]
pub struct Display {
    inner: Arc<Inner>,
}

struct Inner {
    format: OutputFormat,
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
}

impl Display {
    pub fn new(format: OutputFormat, site: &Site) -> Display {
        let bars = (format == OutputFormat::Text && std::io::stderr().is_terminal()).then(|| {
            let multi = MultiProgress::new();
            let style = ProgressStyle::with_template("{prefix:>12} [{bar:12}] {msg}")
                .expect("a valid template")
                .progress_chars("=> ");
            let bars = site
                .nodes
                .iter()
                .map(|n| {
                    let bar = multi.add(ProgressBar::new(Phase::ALL.len() as u64));
                    bar.set_style(style.clone());
                    bar.set_prefix(n.hostname.to_string());
                    bar.set_message("waiting");
                    (n.hostname.to_string(), bar)
                })
                .collect();
            (multi, bars)
        });
        Display {
            inner: Arc::new(Inner { format, bars }),
        }
    }

    pub fn ready(&self, info: &ServerInfo, shared: &Shared) {
        if self.inner.format == OutputFormat::Json {
            return;
        }
        let line = format!(
            "aerie pxe: serving {} nodes at {} ({} mode); Ctrl-C stops",
            shared.plan.nodes.len(),
            info.url,
            info.mode
        );
        self.say(&line);
    }

    fn say(&self, line: &str) {
        match &self.inner.bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        }
    }

    pub fn event(&self, e: &Event) {
        if self.inner.format == OutputFormat::Json {
            if let Ok(line) = serde_json::to_string(e) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            return;
        }
        let phase = Phase::ALL.into_iter().find(|p| p.as_str() == e.event);
        if let (Some((_, bars)), Some(phase), Some(node)) = (&self.inner.bars, phase, &e.node) {
            if let Some(bar) = bars.get(node) {
                bar.set_position(phase.step());
                bar.set_message(format!("{} {}", phase.as_str(), e.detail));
                return;
            }
        }
        let who = match (&e.node, &e.mac) {
            (Some(n), _) => n.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => "aerie".to_string(),
        };
        self.say(&format!("{who}: {} {}", e.event, e.detail));
    }

    pub fn finish(&self) {
        if let Some((_, bars)) = &self.inner.bars {
            for bar in bars.values() {
                bar.abandon();
            }
        }
    }
}
