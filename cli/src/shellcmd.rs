//! `spikeforge completions` and `spikeforge man`: shell completion scripts
//! (clap_complete) and roff man pages (clap_mangen), both derived from the
//! same clap definition as the parser, so they cannot drift from it.

use crate::args::JsonArg;
use crate::cli_command;
use crate::common::{check_out_file, other, write_file, Command, Failure, Outcome};
use clap::Args;
use clap_complete::Shell;
use serde_json::json;
use std::path::PathBuf;

/// `spikeforge completions`' arguments.
#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
    /// Write the script here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    // With --json: {"shell", "script"}, or {"shell", "file"} with --out.
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for CompletionsArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        if let Some(p) = &self.out {
            check_out_file(p, "--out")?;
        }
        let mut cmd = cli_command();
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut cmd, "spikeforge", &mut script);
        let script = String::from_utf8(script).map_err(|e| other(format!("completion script: {e}"), None))?;
        match (&self.out, self.output.json) {
            (Some(path), json) => {
                write_file(path, &script)?;
                if json {
                    println!("{}", json!({"shell": self.shell.to_string(), "file": path.display().to_string()}));
                } else {
                    eprintln!("wrote {}", path.display());
                }
            }
            (None, true) => println!("{}", json!({"shell": self.shell.to_string(), "script": script})),
            (None, false) => print!("{script}"),
        }
        Ok(Outcome::Done)
    }
}

/// `spikeforge man`'s arguments.
#[derive(Args)]
pub struct ManArgs {
    /// Write spikeforge.1 and one page per subcommand (spikeforge-map.1, ...)
    /// into this directory; without it, print spikeforge.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    // With --json: {"files"}, or {"page", "roff"} without --out.
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for ManArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        let cmd = cli_command();
        let Some(dir) = &self.out else {
            let page = render(&cmd)?;
            if self.output.json {
                println!("{}", json!({"page": "spikeforge.1", "roff": page}));
            } else {
                print!("{page}");
            }
            return Ok(Outcome::Done);
        };
        if !dir.is_dir() {
            return Err(other(
                format!("{}: not a directory", dir.display()),
                Some("create it first, or leave out --out to print spikeforge.1 on stdout"),
            ));
        }
        let mut files = Vec::new();
        let mut pages = vec![("spikeforge.1".to_string(), cmd.clone())];
        for sub in cmd.get_subcommands() {
            // A subcommand page is named and titled as `man` looks it up.
            let name = format!("spikeforge-{}", sub.get_name());
            pages.push((format!("{name}.1"), sub.clone().name(name)));
        }
        for (file, page) in pages {
            let path = dir.join(&file);
            write_file(&path, &render(&page)?)?;
            files.push(path.display().to_string());
        }
        if self.output.json {
            println!("{}", json!({"files": files}));
        } else {
            for f in &files {
                eprintln!("wrote {f}");
            }
        }
        Ok(Outcome::Done)
    }
}

/// One roff page.
fn render(cmd: &clap::Command) -> Result<String, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .map_err(|e| other(format!("man page of {}: {e}", cmd.get_name()), None))?;
    String::from_utf8(page).map_err(|e| other(format!("man page: {e}"), None))
}
