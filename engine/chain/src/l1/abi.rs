//! The slice of the Aztec L1 ABI (4.1.2, plus the v2 events and the v5/v6 changes) that sparta reads.
//!
//! Only the functions and events the engine uses are declared; `tests` checks every 4.1.2 and v2
//! selector and topic against the signature list generated from `@aztec/l1-artifacts` (vendored in
//! `testdata/abi`). The v5 and v6 declarations are built from the Aztec sources
//! (`aztec-labs-eng/aztec-node`: `l1-contracts/src/core/RollupCore.sol` and
//! `core/slashing/SlashingProposer.sol` at 7ab220da1c and 03778315c9; the v6 `ProposeArgs` from the
//! sequencer publisher at ccc0823b08), and their selectors are pinned in `tests/it/abi_signatures.rs`.

// `alloy::sol!` (not `alloy_sol_types::sol!`) so `#[sol(rpc)]` finds the contract bindings through `alloy`.
use alloy::sol;

sol! {
    /// The Registry: the one address that is pinned; the rollup is always resolved through it.
    #[sol(rpc)]
    interface IRegistry {
        function getCanonicalRollup() external view returns (address);
        event CanonicalRollupUpdated(address indexed instance, uint256 indexed version);
    }

    /// `getTips()` return value.
    struct ChainTips {
        uint256 pending;
        uint256 proven;
    }

    /// `getCheckpoint(n).feeHeader`.
    struct FeeHeader {
        uint256 excessMana;
        uint256 manaUsed;
        uint256 ethPerFeeAsset;
        uint256 congestionCost;
        uint256 proverCost;
    }

    /// `getCheckpoint(n)` return value (a circular buffer on L1: old entries revert).
    struct CheckpointLog {
        bytes32 archive;
        bytes32 headerHash;
        bytes32 blobCommitmentsHash;
        bytes32 outHash;
        bytes32 attestationsHash;
        bytes32 payloadDigest;
        uint256 slotNumber;
        FeeHeader feeHeader;
    }

    struct Exit {
        uint256 withdrawalId;
        uint256 amount;
        uint256 exitableAt;
        address recipientOrWithdrawer;
        bool isRecipient;
        bool exists;
    }

    struct G1Point {
        uint256 x;
        uint256 y;
    }

    struct AttesterConfig {
        G1Point publicKey;
        address withdrawer;
    }

    struct AttesterView {
        uint8 status;
        uint256 effectiveBalance;
        Exit exit;
        AttesterConfig config;
    }

    /// v4 `propose` calldata: who proposed and who attested a checkpoint.
    struct OracleInput {
        int256 feeAssetPriceModifier;
    }

    struct GasFees {
        uint128 feePerDaGas;
        uint128 feePerL2Gas;
    }

    struct CheckpointHeader {
        bytes32 lastArchiveRoot;
        bytes32 blockHeadersHash;
        bytes32 blobsHash;
        bytes32 inHash;
        bytes32 outHash;
        uint256 slotNumber;
        uint256 timestamp;
        address coinbase;
        bytes32 feeRecipient;
        GasFees gasFees;
        uint256 totalManaUsed;
    }

    struct ProposeArgs {
        bytes32 archive;
        OracleInput oracleInput;
        CheckpointHeader header;
    }

    /// `signatureIndices`: MSB-first bitmap over committee positions; `signaturesOrAddresses`:
    /// 65-byte signatures for signers, 20-byte addresses for the others, in committee order.
    struct CommitteeAttestations {
        bytes signatureIndices;
        bytes signaturesOrAddresses;
    }

    struct Signature {
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// The escape hatch (4.x on): in an open hatch epoch a designated proposer proposes without the
    /// committee.
    #[sol(rpc)]
    interface IEscapeHatch {
        function isHatchOpen(uint256 _epoch) external view returns (bool isOpen, address proposer);
    }

    /// The revert by which L1 says an epoch has no committee because too few validators were in the
    /// set when it was sampled (the one sanctioned empty committee while a target size is set).
    error ValidatorSelection__InsufficientValidatorSetSize(uint256 actual, uint256 expected);
    /// The same revert under its name before August 2025 (2.x rollups).
    error ValidatorSelection__InsufficientCommitteeSize(uint256 actual, uint256 expected);

    /// The Rollup instance. Events from its libraries are emitted by the Rollup address.
    #[sol(rpc)]
    interface IRollup {
        function L1_BLOCK_AT_GENESIS() external view returns (uint256);
        function getGenesisTime() external view returns (uint256);
        function getSlotDuration() external view returns (uint256);
        function getEpochDuration() external view returns (uint256);
        function getTargetCommitteeSize() external view returns (uint256);
        function getLagInEpochsForValidatorSet() external view returns (uint256);
        function getLagInEpochsForRandao() external view returns (uint256);
        function getVersion() external view returns (uint256);
        function getCurrentSlot() external view returns (uint256);
        function getCurrentEpoch() external view returns (uint256);
        function getPendingCheckpointNumber() external view returns (uint256);
        function getProvenCheckpointNumber() external view returns (uint256);
        function getTips() external view returns (ChainTips memory);
        function getCheckpoint(uint256 _checkpointNumber) external view returns (CheckpointLog memory);
        function getEpochCommittee(uint256 _epoch) external returns (address[] memory);
        /// 4.x on: the escape hatch in force at the epoch's start (zero when there is none).
        function getEscapeHatchForEpoch(uint256 _epoch) external view returns (address);
        function getCommitteeAt(uint256 _ts) external returns (address[] memory);
        function getProposerAt(uint256 _ts) external returns (address);
        function getSampleSeedAt(uint256 _ts) external view returns (uint256);
        function getStatus(address _attester) external view returns (uint8);
        function getAttesterView(address _attester) external view returns (AttesterView memory);
        function getActiveAttesterCount() external view returns (uint256);
        function getAttesterAtIndex(uint256 _index) external view returns (address);
        function getGSE() external view returns (address);
        function getSlasher() external view returns (address);

        function propose(
            ProposeArgs _args,
            CommitteeAttestations _attestations,
            address[] _signers,
            Signature _attestationsAndSignersSignature,
            bytes _blobInput
        ) external;

        event Slashed(address indexed attester, uint256 amount);
        event CheckpointProposed(
            uint256 indexed checkpointNumber,
            bytes32 indexed archive,
            bytes32[] versionedBlobHashes,
            bytes32 payloadDigest,
            bytes32 attestationsHash
        );
        event L2ProofVerified(uint256 indexed checkpointNumber, address indexed proverId);
        event PrunedPending(uint256 provenCheckpointNumber, uint256 pendingCheckpointNumber);
        event WithdrawInitiated(address indexed attester, address indexed recipient, uint256 amount);
    }

    /// The v2 (block-based) Rollup events and getters that differ from v4.
    #[sol(rpc)]
    interface IRollupV2 {
        function getPendingBlockNumber() external view returns (uint256);
        function getProvenBlockNumber() external view returns (uint256);
        event L2BlockProposed(uint256 indexed blockNumber, bytes32 indexed archive, bytes32[] versionedBlobHashes);
    }

    /// The Slasher: points at the slashing proposer.
    #[sol(rpc)]
    interface ISlasher {
        function PROPOSER() external view returns (address);
        function isSlashingEnabled() external view returns (bool);
    }

    /// The tally slashing proposer: rounds of per-slot votes, executed after a delay.
    #[sol(rpc)]
    interface ITallySlashingProposer {
        function QUORUM() external view returns (uint256);
        function ROUND_SIZE() external view returns (uint256);
        function ROUND_SIZE_IN_EPOCHS() external view returns (uint256);
        function COMMITTEE_SIZE() external view returns (uint256);
        function LIFETIME_IN_ROUNDS() external view returns (uint256);
        function EXECUTION_DELAY_IN_ROUNDS() external view returns (uint256);
        function SLASH_OFFSET_IN_ROUNDS() external view returns (uint256);
        function getCurrentRound() external view returns (uint256);
        function getRound(uint256 _round) external view returns (bool isExecuted, uint256 voteCount);
        function getVotes(uint256 _round, uint256 _index) external view returns (bytes memory);
        function getSlashTargetCommittees(uint256 _round) external returns (address[][] memory committees);
        event VoteCast(uint256 indexed round, uint256 indexed slot, address indexed proposer);
        event RoundExecuted(uint256 indexed round, uint256 slashCount);
    }

    /// Multicall3 (at the same address on every chain): the sequencer bundles `propose` with its
    /// slash vote and governance signal through `aggregate3`.
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    interface IMulticall3 {
        function aggregate3(Call3[] calls) external payable;
    }

    /// v5 `propose`: the checkpoint header gains `accumulatedFees` (selector `0x72636df9`).
    struct CheckpointHeaderV5 {
        bytes32 lastArchiveRoot;
        bytes32 blockHeadersHash;
        bytes32 blobsHash;
        bytes32 inHash;
        bytes32 outHash;
        uint256 slotNumber;
        uint256 timestamp;
        address coinbase;
        bytes32 feeRecipient;
        GasFees gasFees;
        uint256 totalManaUsed;
        uint256 accumulatedFees;
    }

    struct ProposeArgsV5 {
        bytes32 archive;
        OracleInput oracleInput;
        CheckpointHeaderV5 header;
    }

    interface IRollupV5 {
        function propose(
            ProposeArgsV5 _args,
            CommitteeAttestations _attestations,
            address[] _signers,
            Signature _attestationsAndSignersSignature,
            bytes _blobInput
        ) external;
    }

    /// v6 `propose`: header field 4 is the inbox rolling hash, and the args end with a bucket hint
    /// (selector `0x0a883a99`).
    struct CheckpointHeaderV6 {
        bytes32 lastArchiveRoot;
        bytes32 blockHeadersHash;
        bytes32 blobsHash;
        bytes32 inboxRollingHash;
        bytes32 outHash;
        uint256 slotNumber;
        uint256 timestamp;
        address coinbase;
        bytes32 feeRecipient;
        GasFees gasFees;
        uint256 totalManaUsed;
        uint256 accumulatedFees;
    }

    struct ProposeArgsV6 {
        bytes32 archive;
        OracleInput oracleInput;
        CheckpointHeaderV6 header;
        uint256 bucketHint;
    }

    interface IRollupV6 {
        function propose(
            ProposeArgsV6 _args,
            CommitteeAttestations _attestations,
            address[] _signers,
            Signature _attestationsAndSignersSignature,
            bytes _blobInput
        ) external;
    }

    /// The v6 `SlashingProposer` event: `VoteCast` carries the vote's index (`getVotes(round, index)`).
    /// v5's `SlashingProposer` (mainnet) still emits the 4.x event.
    interface ISlashingProposerV6 {
        event VoteCast(uint256 indexed round, uint256 indexed slot, address indexed proposer, uint256 voteIndex);
    }

    /// The staking registry shared by rollup instances.
    #[sol(rpc)]
    interface IGSE {
        function getAttestersFromIndicesAtTime(address _instance, uint256 _timestamp, uint256[] _indices)
            external view returns (address[] memory);
    }
}
