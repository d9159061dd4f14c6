//! A complete symptom assessment, start to report.
//!
//! ```sh
//! cargo run --example triage              # against an embedded hh-sandbox
//! cargo run --example triage -- --auto    # answer automatically even at a terminal
//! HH_IDENTITY_URL=.. HH_API_URL=.. HH_CLIENT_ID=.. HH_CLIENT_SECRET=.. \
//!     cargo run --example triage -- --product YOURCODE   # against HealthHero
//! HH_IDENTITY_URL=.. HH_API_URL=.. HH_CLIENT_ID=.. HH_CLIENT_KEY_FILE=key.pem HH_DPOP=true \
//!     cargo run --example triage                          # with a client key and DPoP
//! ```
//!
//! At a terminal it asks you each question; otherwise (or with `--auto`) it answers by itself,
//! and on the way shows a validation error being corrected and a step back.

use std::error::Error;
use std::io::{BufRead, IsTerminal, Write};

use healthhero::models::{
    Answer, ConclusionReport, ControlType, Question, RespondItem, TraversalCreate,
    TraversalResponse,
};
use healthhero::{HealthHero, Traversals as _};

type Res<T> = Result<T, Box<dyn Error>>;

struct Options {
    auto: bool,
    product: String,
}

fn options() -> Res<Options> {
    let mut auto = !std::io::stdin().is_terminal();
    let mut product = std::env::var("HH_PRODUCT").unwrap_or_else(|_| "SYMPTOMS".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--auto" => auto = true,
            "--product" => product = args.next().ok_or("--product needs a short code")?,
            "-h" | "--help" => {
                println!("triage [--auto] [--product SHORTCODE]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    Ok(Options { auto, product })
}

#[tokio::main]
async fn main() -> Res<()> {
    let options = options()?;
    // The real service when credentials are in the environment, else a local sandbox.
    let _sandbox;
    let hh = if std::env::var_os("HH_IDENTITY_URL").is_some()
        || std::env::var_os("HH_CLIENT_ID").is_some()
    {
        println!(
            "Using HealthHero at {}",
            std::env::var("HH_API_URL").unwrap_or_default()
        );
        HealthHero::from_env()?
    } else {
        let sandbox = hh_sandbox::Sandbox::start().await?;
        println!(
            "No HH_* variables set: using a local hh-sandbox at {}",
            sandbox.url()
        );
        let client = healthhero::Client::builder()
            .identity_url(sandbox.identity_url())
            .api_url(sandbox.api_url())
            .client_id(sandbox.client_id())
            .client_secret(sandbox.client_secret())
            .build()?;
        _sandbox = sandbox;
        HealthHero::new(client)
    };
    let mode = if options.auto {
        "answering automatically"
    } else {
        "asking you"
    };
    println!("Starting a {} assessment, {mode}.\n", options.product);
    run(&hh, &options).await
}

async fn run(hh: &HealthHero, options: &Options) -> Res<()> {
    let traversals = hh.traversals();
    let mut page = traversals
        .create(&TraversalCreate::new(&options.product))
        .await?;
    let id = page.traversal_id.clone();
    let mut auto = AutoAnswers::default();
    // The page number a person would see: it does not move when a page comes back with errors.
    let mut number = 1;
    while !page.is_complete() {
        let mut errors: Vec<&str> = page.all_errors().map(|e| e.text()).collect();
        errors.dedup();
        let again = if errors.is_empty() { "" } else { " (again)" };
        println!(
            "── Page {number}{again} · {} ──",
            page.algo_name.as_deref().unwrap_or("assessment")
        );
        for error in &errors {
            println!("   ! {error}");
        }
        let step = if options.auto {
            auto.answer(&page)
        } else {
            ask(&page)?
        };
        page = match step {
            Step::Respond(items) => {
                let next = traversals.respond(&id, &items).await?;
                if next.all_errors().next().is_none() {
                    number += 1;
                }
                next
            }
            Step::Back => {
                println!("   ← going back one page");
                number -= 1;
                traversals.previous(&id).await?
            }
        };
        println!();
    }
    let pages = number - 1;
    println!("Assessment complete ({pages} pages).\n");
    if page.assessment_type.is_symptom_checker() || page.assessment_type.0 == 0 {
        let report = traversals.conclusion_report(&id).await?;
        print_report(&report);
    } else {
        for c in traversals.conclusions(&id).await? {
            println!(
                "• {}",
                c.display_text
                    .as_deref()
                    .or(c.headline())
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

enum Step {
    Respond(Vec<RespondItem>),
    Back,
}

/// The visible answers of a question (Hidden ones carry their own value).
fn visible(q: &Question) -> Vec<&Answer> {
    q.answers
        .iter()
        .filter(|a| a.control_type != ControlType::Hidden)
        .collect()
}

fn label(a: &Answer) -> &str {
    a.display_text.as_deref().unwrap_or("")
}

fn takes_value(kind: &ControlType) -> bool {
    matches!(
        kind,
        ControlType::Number
            | ControlType::Range
            | ControlType::Date
            | ControlType::Text
            | ControlType::Textarea
    )
}

/// Answers on its own: the first choice (or the exclusive one when choices mix ticks and a
/// single option), the middle of numeric ranges, a recent date, a short text. On the way it
/// sends one out-of-range number to show validation, and steps back once.
#[derive(Default)]
struct AutoAnswers {
    showed_error: bool,
    went_back: bool,
    pages_answered: u32,
}

impl AutoAnswers {
    fn answer(&mut self, page: &TraversalResponse) -> Step {
        if self.pages_answered == 3 && !self.went_back && !page.previous_disabled {
            self.went_back = true;
            return Step::Back;
        }
        let mut items = Vec::new();
        for q in page.questions() {
            let shown = visible(q);
            if shown.is_empty() {
                continue;
            }
            println!("   {}", q.display_text.as_deref().unwrap_or("(question)"));
            let radios: Vec<&Answer> = shown
                .iter()
                .copied()
                .filter(|a| a.control_type == ControlType::Radio)
                .collect();
            let ticks: Vec<&Answer> = shown
                .iter()
                .copied()
                .filter(|a| a.control_type == ControlType::Checkbox)
                .collect();
            let chosen: Option<(&Answer, Option<String>)> =
                if let Some(first) = (!ticks.is_empty()).then(|| radios.first()).flatten() {
                    Some((first, None))
                } else if let Some(first) = radios.first() {
                    Some((first, None))
                } else if let Some(first) = ticks.first() {
                    Some((first, None))
                } else {
                    shown.first().map(|a| (*a, Some(self.value_for(a))))
                };
            if let Some((answer, value)) = chosen {
                match &value {
                    // Numbers read better with their unit ("60 years"); other labels are prompts.
                    Some(v) if answer.control_type == ControlType::Number => {
                        println!("   → {v} {}", label(answer))
                    }
                    Some(v) => println!("   → {v}"),
                    None => println!("   → {}", label(answer)),
                }
                items.push(answer.respond(value));
            }
        }
        self.pages_answered += 1;
        Step::Respond(items)
    }

    fn value_for(&mut self, a: &Answer) -> String {
        match a.control_type {
            ControlType::Number | ControlType::Range => {
                let (lo, hi) = (a.min.unwrap_or(0.0), a.max.unwrap_or(100.0));
                if a.control_type == ControlType::Number && !self.showed_error {
                    self.showed_error = true;
                    // Deliberately out of range, to show the server's validation.
                    return format!("{}", (hi + 10.0).round());
                }
                format!("{}", ((lo + hi) / 2.0).round())
            }
            ControlType::Date => days_ago(3),
            _ => "Started a few days ago".to_owned(),
        }
    }
}

/// Asks the user at the terminal.
fn ask(page: &TraversalResponse) -> Res<Step> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    let mut read = |prompt: &str| -> Res<String> {
        print!("{prompt}");
        std::io::stdout().flush()?;
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Err("input ended".into());
        }
        Ok(line.trim().to_owned())
    };
    let mut items = Vec::new();
    for q in page.questions() {
        let shown = visible(q);
        if shown.is_empty() {
            continue;
        }
        println!("   {}", q.display_text.as_deref().unwrap_or("(question)"));
        if let Some(help) = q.explanation.as_deref().filter(|e| !e.is_empty()) {
            println!("   ({help})");
        }
        if shown.len() == 1 && takes_value(&shown[0].control_type) {
            let a = shown[0];
            let range = match (a.min, a.max) {
                (Some(lo), Some(hi)) => format!(" [{lo}-{hi}]"),
                _ => String::new(),
            };
            let hint = if a.control_type == ControlType::Date {
                " (YYYY-MM-DD)"
            } else {
                ""
            };
            let value = read(&format!("   {}{range}{hint}: ", label(a)))?;
            if value == "b" && !page.previous_disabled {
                return Ok(Step::Back);
            }
            if !value.is_empty() {
                items.push(a.respond(Some(value)));
            }
            continue;
        }
        for (i, a) in shown.iter().enumerate() {
            let kind = if a.control_type == ControlType::Checkbox {
                "[ ]"
            } else {
                "( )"
            };
            println!("     {}. {kind} {}", i + 1, label(a));
        }
        let back = if page.previous_disabled {
            ""
        } else {
            ", b to go back"
        };
        let choice = read(&format!("   choose (numbers separated by commas{back}): "))?;
        if choice == "b" && !page.previous_disabled {
            return Ok(Step::Back);
        }
        for n in choice
            .split(',')
            .filter_map(|n| n.trim().parse::<usize>().ok())
        {
            if let Some(a) = shown.get(n.wrapping_sub(1)) {
                let value = if takes_value(&a.control_type) {
                    Some(read(&format!("   {}: ", label(a)))?)
                } else {
                    None
                };
                items.push(a.respond(value));
            }
        }
    }
    Ok(Step::Respond(items))
}

fn print_report(report: &ConclusionReport) {
    let Some(reason) = report
        .reason_conclusions
        .first()
        .or(report.symptom_conclusions.first())
    else {
        println!("No recommendation was reached.");
        return;
    };
    println!("══ Recommendation ══");
    println!(
        "{}",
        reason
            .display_text
            .as_deref()
            .or(reason.headline())
            .unwrap_or_default()
    );
    if let Some(why) = reason.explanation.as_deref() {
        println!("{why}");
    }
    if let Some(minutes) = report.reason_time_in_minutes.filter(|m| *m > 0) {
        println!("Act within: {}", when(minutes));
    }
    let section = |title: Option<&str>, bullets: &[healthhero::models::Bullet]| {
        if bullets.is_empty() {
            return;
        }
        println!("\n{}", title.unwrap_or("Notes"));
        for b in bullets {
            println!("  • {}", b.display_text.as_deref().unwrap_or_default());
        }
    };
    section(
        report.danger_bullet_title.as_deref(),
        &report.danger_bullets,
    );
    section(
        report.contact_bullet_title.as_deref(),
        &report.contact_bullets,
    );
    section(
        report.reason_bullet_title.as_deref(),
        &report.reason_bullets,
    );
    if !report.other_conclusions.is_empty() {
        println!(
            "\n{}",
            report
                .other_conclusion_title
                .as_deref()
                .unwrap_or("Also considered")
        );
        for c in &report.other_conclusions {
            println!("  • {}", c.display_text.as_deref().unwrap_or_default());
        }
    }
    if !report.information_conclusions.is_empty() {
        println!(
            "\n{}",
            report
                .information_conclusion_title
                .as_deref()
                .unwrap_or("Information")
        );
        for c in &report.information_conclusions {
            println!(
                "  • {} — {}",
                c.display_text.as_deref().unwrap_or_default(),
                c.explanation.as_deref().unwrap_or_default()
            );
        }
    }
}

fn when(minutes: i32) -> String {
    match minutes {
        ..60 => format!("{minutes} minutes"),
        60..1440 => format!("{} hours", minutes / 60),
        _ => format!("{} days", minutes / 1440),
    }
}

/// Today minus `n` days, as `YYYY-MM-DD` (UTC).
fn days_ago(n: u64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let z = (secs / 86_400).saturating_sub(n) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
