//! [`Store`] on DynamoDB: the same observable behaviour as the embedded backend.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, WriteRequest};
use sparta_core::{Address, Epoch, Slot, SlotFacts, ValidatorStats};

use super::calls::{delete_request, put_request};
use super::errors::malformed;
use super::errors::sdk_error;
use super::items::{Item, address_key, from_json, get_address, get_b, get_n, get_s, item, n, s, to_json};
use super::slots::{TRANSACTION_LIMIT, check_ascending, committee_key, slot_key};
use super::tables::*;
use super::{CHECKPOINT_ITEM, DynamoStore, IDENTITY_ITEM, JSON, VALUE};
use crate::challenges;
use crate::codec;
use crate::outbox::{AuditEntry, Decision, OutboxRecord, Settlement};
use crate::{
    AlertRecord, AlertSettings, Challenge, Fence, Lease, Link, NetworkIdentity, RoleState, Store, StoreError,
};

const ALERT_SETTINGS_PREFIX: &str = "alert-settings#";

fn alert_settings_item(operator: &str) -> String {
    format!("{ALERT_SETTINGS_PREFIX}{operator}")
}

fn cursor_item(name: &str) -> String {
    format!("cursor#{name}")
}

impl DynamoStore {
    /// The validators linked to `operator`, ordered by address, from the sparse `by_operator` index.
    /// Index reads are eventually consistent: a link made a moment ago may not show yet.
    pub async fn validators_of(&self, operator: &str) -> Result<Vec<Address>, StoreError> {
        let table = &self.tables.validators;
        let items = self.query_partition(table, Some(BY_OPERATOR_INDEX), OPERATOR, operator).await?;
        items.iter().map(|i| get_address(table, i, VALIDATORS_PK)).collect()
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn check_identity(&self, id: &NetworkIdentity) -> Result<(), StoreError> {
        self.timed("check_identity", async {
            let table = &self.tables.meta;
            let fresh = item([(META_PK, s(IDENTITY_ITEM)), (JSON, to_json(id)?)]);
            let stored = self.meta_item_or_insert(IDENTITY_ITEM, fresh).await?;
            let stored: NetworkIdentity = from_json(table, &stored, JSON)?;
            if stored != *id {
                return Err(StoreError::IdentityMismatch {
                    stored: Box::new(stored),
                    configured: Box::new(id.clone()),
                });
            }
            Ok(())
        })
        .await
    }

    async fn checkpoint(&self) -> Result<Option<Slot>, StoreError> {
        self.timed("checkpoint", self.read_checkpoint()).await
    }

    async fn commit_slots(&self, facts: &[SlotFacts]) -> Result<(), StoreError> {
        let Some(last) = facts.last().map(|f| f.slot) else { return Ok(()) };
        check_ascending(facts)?;
        self.timed("commit_slots", async {
            let rows = self.slot_rows(facts).await?;
            // Room for the checkpoint, and for the fence check on a fenced handle.
            if rows.len() + 1 + usize::from(self.fence.is_some()) <= TRANSACTION_LIMIT {
                self.commit_in_one_transaction(rows, last).await
            } else {
                self.commit_rows_then_checkpoint(rows, last).await
            }
        })
        .await
    }

    async fn slot_history(&self, from: Slot) -> Result<Vec<SlotFacts>, StoreError> {
        self.timed("slot_history", async {
            let Some(checkpoint) = self.read_checkpoint().await? else { return Ok(Vec::new()) };
            if from > checkpoint {
                return Ok(Vec::new());
            }
            let rows = self.query_slots(SLOTS_PARTITION, ">=", from.0).await?;
            // Rows past the checkpoint are leftovers of an interrupted large commit: not yet history.
            let table = &self.tables.slots;
            let mut kept = Vec::with_capacity(rows.len());
            for r in rows {
                if get_n(table, &r, SLOTS_SK)? <= checkpoint.0 {
                    kept.push(r);
                }
            }
            self.resolve_history(kept).await
        })
        .await
    }

    async fn trim_history(&self, before: Slot) -> Result<u64, StoreError> {
        self.timed("trim_history", async {
            // Batch writes cannot carry a condition: check the fence first.
            self.stale_fence().await?;
            let table = &self.tables.slots;
            let doomed = self.query_slots(SLOTS_PARTITION, "<", before.0).await?;
            let (mut requests, epochs) = deletions(table, &doomed)?;
            let removed = requests.len() as u64;
            // Epochs only grow with slots, so only the first remaining row's epoch can still need a
            // committee among the trimmed ones.
            let remaining = self.query_slots(SLOTS_PARTITION, ">=", before.0).await?;
            let still_used = match remaining.first() {
                Some(r) => {
                    Some(codec::decode_slot(get_b(table, r, "row")?).map_err(|e| malformed(table, e))?.epoch)
                }
                None => None,
            };
            for epoch in epochs.into_iter().filter(|e| Some(*e) != still_used) {
                requests.push(delete_request(committee_key(epoch))?);
            }
            self.batch_write(table, requests).await?;
            Ok(removed)
        })
        .await
    }

    async fn rewind(&self, from: Slot) -> Result<u64, StoreError> {
        self.timed("rewind", async {
            self.stale_fence().await?;
            match self.read_checkpoint().await? {
                Some(checkpoint) if checkpoint >= from => {}
                _ => return Ok(0),
            }
            // The checkpoint first: rows past it are not history, so a crash after this line loses nothing.
            let meta = &self.tables.meta;
            match from.0.checked_sub(1) {
                Some(before) => self.put(meta, Self::checkpoint_item(Slot(before))).await?,
                None => {
                    self.client
                        .delete_item()
                        .table_name(meta)
                        .set_key(Some(item([(META_PK, s(CHECKPOINT_ITEM))])))
                        .send()
                        .await
                        .map_err(|e| sdk_error(meta, "DeleteItem", e))?;
                }
            }
            let table = &self.tables.slots;
            let doomed = self.query_slots(SLOTS_PARTITION, ">=", from.0).await?;
            // History is contiguous, so the last row kept, if any, is the slot just before `from`:
            // one read, not the whole history.
            let before = match from.0.checked_sub(1) {
                Some(slot) => self.get(table, slot_key(slot)).await?,
                None => None,
            };
            let kept_epoch = match before {
                Some(r) => {
                    Some(codec::decode_slot(get_b(table, &r, "row")?).map_err(|e| malformed(table, e))?.epoch)
                }
                None => None,
            };
            let (mut requests, epochs) = deletions(table, &doomed)?;
            let removed = requests.len() as u64;
            for epoch in epochs.into_iter().filter(|e| Some(*e) != kept_epoch) {
                requests.push(delete_request(committee_key(epoch))?);
            }
            self.batch_write(table, requests).await?;
            Ok(removed)
        })
        .await
    }

    async fn put_stats(&self, stats: &[ValidatorStats]) -> Result<(), StoreError> {
        self.timed("put_stats", async {
            // Batch writes cannot carry a condition: check the fence first.
            self.stale_fence().await?;
            // One batch may not name a key twice; the last stats of a validator win, as in a loop of upserts.
            let mut latest: BTreeMap<String, &ValidatorStats> = BTreeMap::new();
            for st in stats {
                latest.insert(address_key(&st.address), st);
            }
            let mut requests = Vec::with_capacity(latest.len());
            for (address, st) in latest {
                requests.push(put_request(item([
                    (VALIDATORS_PK, s(address)),
                    (VALIDATORS_SK, s(STATS_RECORD)),
                    (JSON, to_json(st)?),
                ]))?);
            }
            self.batch_write(&self.tables.validators, requests).await
        })
        .await
    }

    async fn stats(&self, validator: &Address) -> Result<Option<ValidatorStats>, StoreError> {
        self.timed("stats", async {
            let table = &self.tables.validators;
            let key = item([(VALIDATORS_PK, s(address_key(validator))), (VALIDATORS_SK, s(STATS_RECORD))]);
            let found = self.get(table, key).await?;
            found.map(|i| from_json(table, &i, JSON)).transpose()
        })
        .await
    }

    async fn all_stats(&self) -> Result<Vec<ValidatorStats>, StoreError> {
        self.timed("all_stats", async {
            let table = &self.tables.validators;
            let mut out: Vec<ValidatorStats> = Vec::new();
            for i in self.scan(table).await? {
                if get_s(table, &i, VALIDATORS_SK)? == STATS_RECORD {
                    out.push(from_json(table, &i, JSON)?);
                }
            }
            out.sort_by_key(|st| st.address);
            Ok(out)
        })
        .await
    }

    async fn link(&self, link: &Link) -> Result<(), StoreError> {
        self.timed("link", async {
            let row = item([
                (VALIDATORS_PK, s(address_key(&link.validator))),
                (VALIDATORS_SK, s(LINK_RECORD)),
                (OPERATOR, s(link.operator.clone())),
            ]);
            self.put(&self.tables.validators, row).await
        })
        .await
    }

    async fn validators_of(&self, operator: &str) -> Result<Vec<Address>, StoreError> {
        self.timed("validators_of", async {
            // The index holds exactly the link rows (only they carry `operator`); it is eventually
            // consistent, so a link made a moment ago may take a moment to show.
            let table = &self.tables.validators;
            let rows = self.query_partition(table, Some(BY_OPERATOR_INDEX), OPERATOR, operator).await?;
            let mut out =
                rows.iter().map(|i| get_address(table, i, VALIDATORS_PK)).collect::<Result<Vec<_>, _>>()?;
            out.sort_unstable();
            Ok(out)
        })
        .await
    }

    async fn link_audited(&self, link: &Link, audit: &AuditEntry) -> Result<(), StoreError> {
        self.timed("link_audited", self.link_audited_items(link, audit)).await
    }

    async fn put_challenge(&self, challenge: &Challenge) -> Result<(), StoreError> {
        self.timed("put_challenge", async {
            let table = &self.tables.challenges;
            // TTL deletes expired rows eventually (within days), so the put also drops them and holds
            // the user to the maximum: one Query of a partition of at most a few rows. Not atomic with
            // the put: racing puts of one user may leave one extra until the user's next put.
            let stored = self.query_partition(table, None, USER, &challenge.user).await?;
            let stored = stored.iter().map(|i| from_json(table, i, JSON)).collect::<Result<Vec<_>, _>>()?;
            let displaced = challenges::displaced_by(challenge, &stored);
            if !displaced.is_empty() {
                let deletes = displaced
                    .iter()
                    .map(|v| {
                        delete_request(item([(USER, s(&challenge.user)), (VALIDATOR, s(address_key(v)))]))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.batch_write(table, deletes).await?;
            }
            let row = item([
                (USER, s(challenge.user.clone())),
                (VALIDATOR, s(address_key(&challenge.validator))),
                (EXPIRES_AT, n(challenge.expires_ms.div_ceil(1_000))),
                (JSON, to_json(challenge)?),
            ]);
            self.put(table, row).await
        })
        .await
    }

    async fn take_challenge(&self, user: &str, validator: &Address) -> Result<Option<Challenge>, StoreError> {
        self.timed("take_challenge", async {
            let table = &self.tables.challenges;
            // One DeleteItem returning what it deleted: of two concurrent takers only one gets the item.
            let out = self
                .client
                .delete_item()
                .table_name(table)
                .set_key(Some(item([(USER, s(user)), (VALIDATOR, s(address_key(validator)))])))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| sdk_error(table, "DeleteItem", e))?;
            out.attributes.filter(|a| !a.is_empty()).map(|a| from_json(table, &a, JSON)).transpose()
        })
        .await
    }

    async fn links(&self) -> Result<Vec<Link>, StoreError> {
        self.timed("links", async {
            let table = &self.tables.validators;
            let mut out = Vec::new();
            for i in self.scan(table).await? {
                if get_s(table, &i, VALIDATORS_SK)? == LINK_RECORD {
                    let validator = get_address(table, &i, VALIDATORS_PK)?;
                    out.push(Link { operator: get_s(table, &i, OPERATOR)?.to_string(), validator });
                }
            }
            out.sort_by_key(|l| l.validator);
            Ok(out)
        })
        .await
    }

    async fn operator_of(&self, validator: &Address) -> Result<Option<String>, StoreError> {
        self.timed("operator_of", async {
            let table = &self.tables.validators;
            let key = item([(VALIDATORS_PK, s(address_key(validator))), (VALIDATORS_SK, s(LINK_RECORD))]);
            let found = self.get(table, key).await?;
            found.map(|i| get_s(table, &i, OPERATOR).map(str::to_string)).transpose()
        })
        .await
    }

    async fn role_states(&self) -> Result<Vec<RoleState>, StoreError> {
        self.timed("role_states", async {
            let table = &self.tables.roles;
            let mut out: Vec<RoleState> = self
                .scan(table)
                .await?
                .iter()
                .map(|i| from_json(table, i, JSON))
                .collect::<Result<_, _>>()?;
            out.sort_by(|a, b| (&a.subject, &a.role).cmp(&(&b.subject, &b.role)));
            Ok(out)
        })
        .await
    }

    async fn role_state(&self, subject: &str, role: &str) -> Result<Option<RoleState>, StoreError> {
        self.timed("role_state", async {
            let table = &self.tables.roles;
            let found = self.get(table, item([(SUBJECT, s(subject)), (ROLE, s(role))])).await?;
            found.map(|i| from_json(table, &i, JSON)).transpose()
        })
        .await
    }

    async fn put_role_state(&self, state: &RoleState) -> Result<(), StoreError> {
        self.timed("put_role_state", async {
            let row = item([
                (SUBJECT, s(state.subject.clone())),
                (ROLE, s(state.role.clone())),
                (JSON, to_json(state)?),
            ]);
            self.put(&self.tables.roles, row).await
        })
        .await
    }

    async fn alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        self.timed("alerts", async {
            let table = &self.tables.alerts;
            let mut out: Vec<AlertRecord> = self
                .scan(table)
                .await?
                .iter()
                .map(|i| from_json(table, i, JSON))
                .collect::<Result<_, _>>()?;
            out.sort_by(|a, b| (&a.subject, &a.kind).cmp(&(&b.subject, &b.kind)));
            Ok(out)
        })
        .await
    }

    async fn put_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        self.timed("put_alert", async {
            let row = item([
                (SUBJECT, s(alert.subject.clone())),
                (KIND, s(alert.kind.clone())),
                (JSON, to_json(alert)?),
            ]);
            self.put(&self.tables.alerts, row).await
        })
        .await
    }

    async fn alert_settings(&self, operator: &str) -> Result<Option<AlertSettings>, StoreError> {
        self.timed("alert_settings", async {
            let found = self.meta_item(&alert_settings_item(operator)).await?;
            found.map(|i| from_json(&self.tables.meta, &i, JSON)).transpose()
        })
        .await
    }

    async fn all_alert_settings(&self) -> Result<Vec<AlertSettings>, StoreError> {
        self.timed("all_alert_settings", async {
            // The meta table holds a handful of records (identity, cursors, leases, these).
            let table = &self.tables.meta;
            let mut out = Vec::new();
            for row in self.scan(table).await? {
                if get_s(table, &row, META_PK)?.starts_with(ALERT_SETTINGS_PREFIX) {
                    out.push(from_json(table, &row, JSON)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn put_alert_settings(&self, settings: &AlertSettings) -> Result<(), StoreError> {
        self.timed("put_alert_settings", async {
            let row =
                item([(META_PK, s(alert_settings_item(&settings.operator))), (JSON, to_json(settings)?)]);
            self.put(&self.tables.meta, row).await
        })
        .await
    }

    async fn cursor(&self, name: &str) -> Result<Option<u64>, StoreError> {
        self.timed("cursor", async {
            let found = self.meta_item(&cursor_item(name)).await?;
            found.map(|i| get_n(&self.tables.meta, &i, VALUE)).transpose()
        })
        .await
    }

    async fn put_cursor(&self, name: &str, value: u64) -> Result<(), StoreError> {
        self.timed("put_cursor", async {
            self.stale_fence().await?;
            let row = item([(META_PK, s(cursor_item(name))), (VALUE, n(value))]);
            self.put(&self.tables.meta, row).await
        })
        .await
    }

    async fn commit_decision(&self, decision: &Decision) -> Result<Vec<String>, StoreError> {
        self.timed("commit_decision", self.commit_decision_items(decision)).await
    }

    async fn claim_outbox(
        &self,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        self.timed("claim_outbox", self.claim_items(now_ms, lease_ms, limit)).await
    }

    async fn settle_outbox(
        &self,
        key: &str,
        attempt: u32,
        settlement: &Settlement,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        self.timed("settle_outbox", self.settle_item(key, attempt, settlement, now_ms)).await
    }

    async fn outbox_record(&self, key: &str) -> Result<Option<OutboxRecord>, StoreError> {
        self.timed("outbox_record", self.outbox_record_item(key)).await
    }

    async fn outbox_records(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        self.timed("outbox_records", async {
            let table = &self.tables.outbox;
            let mut out: Vec<OutboxRecord> = self
                .scan(table)
                .await?
                .iter()
                .map(|i| from_json(table, i, JSON))
                .collect::<Result<_, _>>()?;
            out.sort_by(|a, b| a.entry.key.cmp(&b.entry.key));
            Ok(out)
        })
        .await
    }

    async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        self.timed("outbox_backlog", self.backlog_count()).await
    }

    async fn audit_log(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.timed("audit_log", self.audit_items(subject)).await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<Lease, StoreError> {
        self.timed("acquire_lease", self.acquire(name, holder, now_ms, ttl_ms)).await
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        self.timed("lease", self.read_lease(name)).await
    }

    fn fenced(&self, fence: Fence) -> std::sync::Arc<dyn Store> {
        std::sync::Arc::new(Self { fence: Some(fence), ..self.clone() })
    }
}

/// The deletes of the slot rows `doomed`, and the epochs those rows belong to (ascending, each once).
fn deletions(table: &str, doomed: &[Item]) -> Result<(Vec<WriteRequest>, Vec<Epoch>), StoreError> {
    let mut epochs = Vec::new();
    let mut requests = Vec::with_capacity(doomed.len());
    for r in doomed {
        let slot = get_n(table, r, SLOTS_SK)?;
        let row = codec::decode_slot(get_b(table, r, "row")?)
            .map_err(|e| malformed(table, format!("slot {slot}: {e}")))?;
        if !epochs.contains(&row.epoch) {
            epochs.push(row.epoch);
        }
        requests.push(delete_request(slot_key(slot))?);
    }
    Ok((requests, epochs))
}
