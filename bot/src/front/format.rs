//! Small renderings shared by the answers: rates, counts, ages, trends. Discord markdown, no mentions.

use sparta_core::{EpochPerformance, MissedStats, Slot};

use super::backend::AsOf;

/// `7.5 %`, or `n/a` without a sample.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) => format!("{:.1} %", rate * 100.0),
        None => "n/a".to_owned(),
    }
}

/// `3/40 missed (7.5 %)`, plus the current streak when there is one.
pub fn misses(stats: &MissedStats) -> String {
    let mut text = format!("{}/{} missed ({})", stats.count, stats.total, percent(stats.rate));
    if stats.current_streak > 0 {
        text.push_str(&format!(", {} in a row now", stats.current_streak));
    }
    text
}

/// `slot 1234` or `never` (within the window).
pub fn last_slot(slot: Option<Slot>) -> String {
    match slot {
        Some(slot) => format!("slot {slot}"),
        None => "none in the window".to_owned(),
    }
}

/// `12 s`, `4 min`, `3 h`, `2 d`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// `as of slot 1234, 12 s ago`.
pub fn freshness(as_of: Option<AsOf>, now_ms: u64) -> String {
    match as_of {
        Some(AsOf { slot, slot_end_s }) => {
            let age = (now_ms / 1000).saturating_sub(slot_end_s);
            format!("as of slot {slot}, {} ago", duration(age))
        }
        None => "no slot processed yet".to_owned(),
    }
}

/// The last epochs as a bar per epoch (taller = more misses) and the worst of them, e.g.
/// `epochs 40–47 ▁▁▂▁█▁▁▁ (worst 62.5 % in epoch 44)`.
pub fn trend(epochs: &[EpochPerformance], last: usize) -> Option<String> {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let shown = &epochs[epochs.len().saturating_sub(last)..];
    let (first, final_) = (shown.first()?, shown.last()?);
    let bars: String = shown
        .iter()
        .map(|e| match e.miss_rate() {
            Some(rate) => BARS[((rate * (BARS.len() - 1) as f64).round() as usize).min(BARS.len() - 1)],
            None => '·',
        })
        .collect();
    let worst =
        shown.iter().filter_map(|e| e.miss_rate().map(|r| (e.epoch, r))).max_by(|a, b| a.1.total_cmp(&b.1));
    let worst = match worst {
        Some((epoch, rate)) if rate > 0.0 => format!(" (worst {} in epoch {epoch})", percent(Some(rate))),
        Some(_) => " (no misses)".to_owned(),
        None => String::new(),
    };
    Some(format!("epochs {}–{} {bars}{worst}", first.epoch, final_.epoch))
}

/// Cuts `text` to Discord's 2,000-character message limit on a line boundary.
pub fn fit_message(mut text: String) -> String {
    const LIMIT: usize = 2000;
    const MORE: &str = "\n…";
    if text.chars().count() <= LIMIT {
        return text;
    }
    let mut cut = text.char_indices().nth(LIMIT - MORE.chars().count()).map(|(i, _)| i).unwrap_or(text.len());
    if let Some(newline) = text[..cut].rfind('\n') {
        cut = newline;
    }
    text.truncate(cut);
    text.push_str(MORE);
    text
}

#[cfg(test)]
mod tests {
    use sparta_core::Epoch;

    use super::*;

    #[test]
    fn rates_counts_and_ages_read_naturally() {
        assert_eq!(percent(Some(0.075)), "7.5 %");
        assert_eq!(percent(None), "n/a");
        assert_eq!(misses(&MissedStats::new(3, 40, 2)), "3/40 missed (7.5 %), 2 in a row now");
        assert_eq!(misses(&MissedStats::new(0, 0, 0)), "0/0 missed (n/a)");
        assert_eq!(duration(12), "12 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(3 * 3600), "3 h");
        assert_eq!(duration(3 * 86_400), "3 d");
        let as_of = AsOf { slot: Slot(100), slot_end_s: 1_000 };
        assert_eq!(freshness(Some(as_of), 1_012_000), "as of slot 100, 12 s ago");
    }

    #[test]
    fn trends_show_one_bar_per_epoch_and_the_worst() {
        let epochs: Vec<EpochPerformance> = [(1, 0, 10), (2, 10, 10), (3, 0, 0), (4, 1, 10)]
            .into_iter()
            .map(|(e, missed, total)| EpochPerformance { epoch: Epoch(e), missed, total })
            .collect();
        assert_eq!(trend(&epochs, 8).unwrap(), "epochs 1–4 ▁█·▂ (worst 100.0 % in epoch 2)");
        assert_eq!(trend(&epochs, 1).unwrap(), "epochs 4–4 ▂ (worst 10.0 % in epoch 4)");
        assert_eq!(trend(&[], 8), None);
    }

    #[test]
    fn long_messages_are_cut_on_a_line() {
        let text = "line of text\n".repeat(400);
        let fitted = fit_message(text);
        assert!(fitted.chars().count() <= 2000);
        assert!(fitted.ends_with("text\n…"));
        assert_eq!(fit_message("short".into()), "short");
    }
}
