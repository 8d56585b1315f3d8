//! The compact binary encoding of slot facts.
//!
//! A committee (48 addresses, ~1 KiB) is the same for every slot of an epoch, so it is stored once per
//! epoch and each slot row refers to it; a slot whose committee differs from its epoch's stored one
//! (never seen in practice) carries it inline instead, so no input is ever misrepresented.
//!
//! Slot row, little-endian, version 1:
//! `version:u8 | epoch:u64 | outcome:u8 (low nibble the outcome, high nibble the generation; rows
//!  written before generations hold 0 there, which is v4) | committee: 0 (epoch's) or 1 + count:u32 + count*20 bytes |
//!  proposer: 0 or 1 + 20 bytes | attested: words:u32 + words*u64`

use std::sync::Arc;

use sparta_core::{Address, CommitteeBits, Epoch, Generation, ProposalOutcome, Slot, SlotFacts};

const ROW_VERSION: u8 = 1;
const COMMITTEE_SHARED: u8 = 0;
const COMMITTEE_INLINE: u8 = 1;

/// Where a decoded row's committee lives.
#[derive(Debug)]
pub(crate) enum CommitteeRef {
    /// The committee stored for the row's epoch.
    Epoch,
    Inline(Arc<[Address]>),
}

/// A decoded slot row, before its committee reference is resolved.
#[derive(Debug)]
pub(crate) struct SlotRow {
    pub epoch: Epoch,
    pub outcome: ProposalOutcome,
    pub generation: Generation,
    pub committee: CommitteeRef,
    pub proposer: Option<Address>,
    pub attested: CommitteeBits,
}

impl SlotRow {
    pub fn into_facts(self, slot: Slot, committee: Arc<[Address]>) -> SlotFacts {
        SlotFacts {
            slot,
            epoch: self.epoch,
            committee,
            proposer: self.proposer,
            outcome: self.outcome,
            attested: self.attested,
            generation: self.generation,
        }
    }
}

fn outcome_code(outcome: ProposalOutcome) -> u8 {
    match outcome {
        ProposalOutcome::Mined => 0,
        ProposalOutcome::Proposed => 1,
        ProposalOutcome::CheckpointMissed => 2,
        ProposalOutcome::BlocksMissed => 3,
        ProposalOutcome::Invalid => 4,
        ProposalOutcome::Unvalidated => 5,
        ProposalOutcome::Unknown => 6,
    }
}

fn outcome_from_code(code: u8) -> Result<ProposalOutcome, String> {
    Ok(match code {
        0 => ProposalOutcome::Mined,
        1 => ProposalOutcome::Proposed,
        2 => ProposalOutcome::CheckpointMissed,
        3 => ProposalOutcome::BlocksMissed,
        4 => ProposalOutcome::Invalid,
        5 => ProposalOutcome::Unvalidated,
        6 => ProposalOutcome::Unknown,
        other => return Err(format!("unknown proposal outcome code {other}")),
    })
}

/// The outcome byte: the outcome in the low nibble, the generation in the high one.
fn outcome_byte(facts: &SlotFacts) -> u8 {
    outcome_code(facts.outcome) | (facts.generation.code() << 4)
}

fn from_outcome_byte(byte: u8) -> Result<(ProposalOutcome, Generation), String> {
    let generation = Generation::from_code(byte >> 4)
        .ok_or_else(|| format!("unknown protocol generation code {}", byte >> 4))?;
    Ok((outcome_from_code(byte & 0x0f)?, generation))
}

/// Encodes `facts`; `shared_committee` says whether its committee is the one stored for its epoch.
pub(crate) fn encode_slot(facts: &SlotFacts, shared_committee: bool) -> Vec<u8> {
    let words = facts.attested.words();
    let mut out = Vec::with_capacity(40 + words.len() * 8);
    out.push(ROW_VERSION);
    out.extend_from_slice(&facts.epoch.0.to_le_bytes());
    out.push(outcome_byte(facts));
    if shared_committee {
        out.push(COMMITTEE_SHARED);
    } else {
        out.push(COMMITTEE_INLINE);
        out.extend_from_slice(&(facts.committee.len() as u32).to_le_bytes());
        out.extend_from_slice(&encode_committee(&facts.committee));
    }
    match facts.proposer {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            out.extend_from_slice(p.as_slice());
        }
    }
    out.extend_from_slice(&(words.len() as u32).to_le_bytes());
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

pub(crate) fn decode_slot(bytes: &[u8]) -> Result<SlotRow, String> {
    let mut r = Reader { bytes, at: 0 };
    let version = r.u8()?;
    if version != ROW_VERSION {
        return Err(format!("unknown slot row version {version}"));
    }
    let epoch = Epoch(r.u64()?);
    let (outcome, generation) = from_outcome_byte(r.u8()?)?;
    let committee = match r.u8()? {
        COMMITTEE_SHARED => CommitteeRef::Epoch,
        COMMITTEE_INLINE => {
            let count = r.u32()? as usize;
            CommitteeRef::Inline(decode_committee(r.take(count.saturating_mul(20))?)?)
        }
        other => return Err(format!("unknown committee tag {other}")),
    };
    let proposer = match r.u8()? {
        0 => None,
        1 => Some(Address::from_slice(r.take(20)?)),
        other => return Err(format!("unknown proposer tag {other}")),
    };
    let word_count = r.u32()? as usize;
    let words = r
        .take(word_count.saturating_mul(8))?
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("chunks_exact yields 8 bytes")))
        .collect();
    if r.at != bytes.len() {
        return Err(format!("{} trailing bytes in slot row", bytes.len() - r.at));
    }
    Ok(SlotRow {
        epoch,
        outcome,
        generation,
        committee,
        proposer,
        attested: CommitteeBits::from_words(words),
    })
}

pub(crate) fn encode_committee(committee: &[Address]) -> Vec<u8> {
    committee.iter().flat_map(|a| a.as_slice().iter().copied()).collect()
}

pub(crate) fn decode_committee(bytes: &[u8]) -> Result<Arc<[Address]>, String> {
    if !bytes.len().is_multiple_of(20) {
        return Err(format!("committee blob of {} bytes is not a whole number of addresses", bytes.len()));
    }
    Ok(bytes.chunks_exact(20).map(Address::from_slice).collect())
}

/// A bounds-checked cursor: a short row is an error, never a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let end =
            end.ok_or_else(|| format!("slot row ends early: wanted {n} bytes at offset {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("took 4 bytes")))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("took 8 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(proposer: bool) -> SlotFacts {
        let committee: Arc<[Address]> = (1..=48u8).map(Address::repeat_byte).collect();
        let mut attested = CommitteeBits::with_len(48);
        attested.set(3);
        attested.set(47);
        SlotFacts {
            slot: Slot(77),
            epoch: Epoch(2),
            proposer: proposer.then(|| committee[5]),
            committee,
            outcome: ProposalOutcome::Proposed,
            attested,
            generation: Generation::V6,
        }
    }

    #[test]
    fn every_outcome_and_generation_round_trips_and_old_rows_read_as_v4() {
        use ProposalOutcome as O;
        for generation in Generation::ALL {
            for outcome in [
                O::Mined,
                O::Proposed,
                O::CheckpointMissed,
                O::BlocksMissed,
                O::Invalid,
                O::Unvalidated,
                O::Unknown,
            ] {
                let f = SlotFacts { outcome, generation, ..facts(true) };
                let row = decode_slot(&encode_slot(&f, true)).unwrap();
                assert_eq!((row.outcome, row.generation), (outcome, generation));
            }
        }
        // A row written before generations: outcome byte 1 (proposed), high nibble 0.
        let mut old = encode_slot(&facts(true), true);
        old[9] = 1;
        let row = decode_slot(&old).unwrap();
        assert_eq!((row.outcome, row.generation), (O::Proposed, Generation::V4));
        old[9] = 0x71;
        assert!(decode_slot(&old).unwrap_err().contains("generation"));
    }

    #[test]
    fn shared_and_inline_rows_round_trip() {
        for (shared, proposer) in [(true, true), (false, false)] {
            let f = facts(proposer);
            let row = decode_slot(&encode_slot(&f, shared)).unwrap();
            let committee = match row.committee {
                CommitteeRef::Epoch => f.committee.clone(),
                CommitteeRef::Inline(ref c) => c.clone(),
            };
            assert_eq!(matches!(row.committee, CommitteeRef::Epoch), shared);
            assert_eq!(row.into_facts(f.slot, committee), f);
        }
    }

    #[test]
    fn a_shared_row_is_small() {
        assert!(encode_slot(&facts(true), true).len() <= 48, "one slot should cost well under 1 KiB");
    }

    #[test]
    fn every_truncation_and_bad_tag_is_an_error() {
        let bytes = encode_slot(&facts(true), false);
        for len in 0..bytes.len() {
            assert!(decode_slot(&bytes[..len]).is_err(), "truncated to {len} bytes decoded");
        }
        let mut extended = bytes.clone();
        extended.push(0);
        assert!(decode_slot(&extended).is_err());
        let mut bad_outcome = bytes.clone();
        bad_outcome[9] = 9;
        assert!(decode_slot(&bad_outcome).unwrap_err().contains("outcome"));
        assert!(decode_committee(&[0; 21]).is_err());
    }
}
