//! RocksDB handle, column families and an in-memory write batch.

use std::path::Path;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DBRawIterator, Options,
    ReadOptions, WriteBatch, DB,
};

use crate::error::StoreError;
use crate::live_nodes::{LiveNodes, LiveNodesUpdate};

/// Column family names.
pub(crate) mod cf {
    /// jmt nodes: tree id ++ node key -> borsh(Node).
    pub const NODES: &str = "jmt_nodes";
    /// jmt values: tree id ++ key hash ++ version -> tagged value (or tombstone).
    pub const VALUES: &str = "jmt_values";
    /// key preimages: tree id ++ key hash -> key (needed for ics23 proofs).
    pub const PREIMAGES: &str = "jmt_preimages";
    /// versioned key index for ordered iteration: tree id ++ escaped key ++ version -> tagged value.
    pub const INDEX: &str = "kv_index";
    /// the latest version as plain data: tree id ++ key -> value (deleted keys absent). Reads of
    /// the newest version, nearly all of them, are one point lookup or one forward scan here.
    pub const LATEST: &str = "kv_latest";
    /// stale node index: tree id ++ stale-since version ++ node key -> ().
    pub const STALE: &str = "stale_nodes";
    /// superseded log: tree id ++ version ++ key -> [tombstone flag].
    pub const SUPERSEDED: &str = "superseded";
    /// latest version, oldest version, app hash per version, known substores.
    pub const META: &str = "metadata";
    /// local unproven data, not versioned.
    pub const NONVERIFIABLE: &str = "nonverifiable";

    pub const ALL: [&str; 9] = [
        NODES,
        VALUES,
        PREIMAGES,
        INDEX,
        LATEST,
        STALE,
        SUPERSEDED,
        META,
        NONVERIFIABLE,
    ];
}

/// RocksDB's block cache, shared by all column families. Tree nodes are most of what a block
/// reads, and RocksDB's default (32 MiB for each column family) holds a small part of a large
/// book's tree: at a million policies every node read past the cache went to the page cache
/// and LZ4. Measured with `scripts/bench-scale` (docs/performance.md); it costs up to this much
/// more resident memory. (Storing the nodes uncompressed was slower, not faster.) Since the
/// internal nodes are held in memory (`live_nodes`), half of the 512 MiB it had measured as fast.
const BLOCK_CACHE_BYTES: usize = 256 << 20;

/// The RocksDB database with all column families opened, and the trees' live internal nodes
/// in memory beside it.
pub(crate) struct Db {
    db: DB,
    pub(crate) live_nodes: LiveNodes,
}

impl Db {
    pub(crate) fn open(path: &Path) -> Result<Db, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        // One cache for the blocks that reads hit, shared by the column families they read.
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let cfs = cf::ALL.iter().map(|name| {
            let mut cf_opts = Options::default();
            cf_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            if [cf::LATEST, cf::NODES].contains(name) {
                // Bloom filters: a point lookup reads only the file that holds its key, not one
                // data block in every level and every level-0 file on the way down (tree nodes:
                // most of a large block's time), and a lookup of an absent key (a new account,
                // an id not yet used) usually reads none.
                table.set_bloom_filter(10.0, false);
            }
            cf_opts.set_block_based_table_factory(&table);
            ColumnFamilyDescriptor::new(*name, cf_opts)
        });
        let db = DB::open_cf_descriptors(&opts, path, cfs)?;
        Ok(Db {
            db,
            live_nodes: LiveNodes::new(),
        })
    }

    pub(crate) fn cf(&self, name: &str) -> Result<&ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::Db(format!("missing column family {name}")))
    }

    pub(crate) fn get(&self, cf_name: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(cf_name)?, key)?)
    }

    /// A raw iterator; it reads from an implicit RocksDB snapshot taken at creation.
    pub(crate) fn raw_iter(&self, cf_name: &str) -> Result<DBRawIterator<'_>, StoreError> {
        Ok(self.db.raw_iterator_cf(self.cf(cf_name)?))
    }

    /// A raw iterator confined to `[lower, upper)`. The bounds let RocksDB stop at them instead of
    /// stepping over deleted entries beyond them (which pruning leaves until compaction).
    pub(crate) fn raw_iter_bounded(
        &self,
        cf_name: &str,
        lower: Vec<u8>,
        upper: Option<Vec<u8>>,
    ) -> Result<DBRawIterator<'_>, StoreError> {
        Ok(self
            .db
            .raw_iterator_cf_opt(self.cf(cf_name)?, bounds(lower, upper)))
    }

    /// A consistent view of every column family as of now.
    pub(crate) fn view(&self) -> View<'_> {
        View {
            db: self,
            snapshot: self.db.snapshot(),
        }
    }

    /// Writes the batch atomically. `sync` forces a WAL fsync (used for commits).
    pub(crate) fn write(&self, batch: &Batch, sync: bool) -> Result<(), StoreError> {
        self.write_encoded(self.encode(batch)?, sync)
    }

    /// Turns a batch into RocksDB's own encoding: the copying half of a write, done ahead so
    /// that a commit only hands the bytes to RocksDB.
    pub(crate) fn encode(&self, batch: &Batch) -> Result<Encoded, StoreError> {
        let mut wb = WriteBatch::default();
        for op in &batch.ops {
            let cf = self.cf(op.cf)?;
            match &op.value {
                Some(v) => wb.put_cf(cf, &op.key, v),
                None => wb.delete_cf(cf, &op.key),
            }
        }
        Ok(Encoded(wb))
    }

    /// Writes an encoded batch atomically; `sync` as for [`Db::write`].
    pub(crate) fn write_encoded(&self, batch: Encoded, sync: bool) -> Result<(), StoreError> {
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(batch.0, &wo)?;
        Ok(())
    }

    /// Counts live entries of a column family (full scan; tests only).
    #[cfg(test)]
    pub(crate) fn count_entries(&self, cf_name: &str) -> Result<usize, StoreError> {
        Ok(self.keys(cf_name)?.len())
    }

    /// Every key of a column family (full scan; tests only).
    #[cfg(test)]
    pub(crate) fn keys(&self, cf_name: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut it = self.raw_iter(cf_name)?;
        it.seek_to_first();
        let mut out = Vec::new();
        while let Some((k, _)) = iter_item(&it)? {
            out.push(k.to_vec());
            it.next();
        }
        Ok(out)
    }
}

fn bounds(lower: Vec<u8>, upper: Option<Vec<u8>>) -> ReadOptions {
    let mut opts = ReadOptions::default();
    opts.set_iterate_lower_bound(lower);
    if let Some(upper) = upper {
        opts.set_iterate_upper_bound(upper);
    }
    opts
}

/// Reads of the database frozen at one moment (a RocksDB snapshot): what one commit wrote is seen
/// entirely or not at all.
pub(crate) struct View<'a> {
    db: &'a Db,
    snapshot: rocksdb::Snapshot<'a>,
}

impl View<'_> {
    pub(crate) fn get(&self, cf_name: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.snapshot.get_cf(self.db.cf(cf_name)?, key)?)
    }

    /// Like [`Db::raw_iter_bounded`], on this view.
    pub(crate) fn raw_iter_bounded(
        &self,
        cf_name: &str,
        lower: Vec<u8>,
        upper: Option<Vec<u8>>,
    ) -> Result<DBRawIterator<'_>, StoreError> {
        Ok(self
            .snapshot
            .raw_iterator_cf_opt(self.db.cf(cf_name)?, bounds(lower, upper)))
    }
}

/// A borrowed (key, value) entry of a raw iterator.
pub(crate) type Entry<'a> = (&'a [u8], &'a [u8]);

/// Returns the current key/value of a raw iterator, or `None` at the end (after surfacing any
/// iterator error).
pub(crate) fn iter_item<'a>(it: &'a DBRawIterator<'_>) -> Result<Option<Entry<'a>>, StoreError> {
    if it.valid() {
        Ok(it.item())
    } else {
        it.status()?;
        Ok(None)
    }
}

#[derive(Debug, Clone)]
struct Op {
    cf: &'static str,
    key: Vec<u8>,
    /// `None` deletes.
    value: Option<Vec<u8>>,
}

/// A batch in RocksDB's encoding, bound to this database's column families. `Send` (not
/// `Sync`), and cloned by copying its bytes.
pub(crate) struct Encoded(WriteBatch);

impl Encoded {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl Clone for Encoded {
    fn clone(&self) -> Self {
        Self(WriteBatch::from_data(self.0.data()))
    }
}

/// An in-memory list of writes, turned into one RocksDB `WriteBatch` when written, and what
/// they do to the live tree nodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Batch {
    ops: Vec<Op>,
    pub(crate) live_nodes: LiveNodesUpdate,
}

impl Batch {
    pub(crate) fn put(&mut self, cf: &'static str, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push(Op {
            cf,
            key,
            value: Some(value),
        });
    }

    pub(crate) fn delete(&mut self, cf: &'static str, key: Vec<u8>) {
        self.ops.push(Op {
            cf,
            key,
            value: None,
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.ops.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.ops.clear();
    }

    /// Moves the writes to the column families `cfs` into a batch of their own, each batch
    /// keeping its writes' order.
    pub(crate) fn split_off(&mut self, cfs: &[&str]) -> Batch {
        let (moved, kept) = std::mem::take(&mut self.ops)
            .into_iter()
            .partition(|op| cfs.contains(&op.cf));
        self.ops = kept;
        Batch {
            ops: moved,
            live_nodes: LiveNodesUpdate::default(),
        }
    }

    /// Moves every write of `other` to the end of this batch.
    pub(crate) fn append(&mut self, mut other: Batch) {
        self.ops.append(&mut other.ops);
        self.live_nodes.append(other.live_nodes);
    }
}
