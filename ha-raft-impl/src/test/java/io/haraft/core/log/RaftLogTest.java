package io.haraft.core.log;

import io.haraft.core.quorum.Membership;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The log on its own: log matching (append, skip, truncate at the first conflict, never below the
 * commit index), the up-to-date check of elections, durability bookkeeping, compaction and
 * snapshot installation, and the configuration in force at each index.
 */
class RaftLogTest {
    private static final Membership ABC = Membership.ofVoters(List.of("a", "b", "c"));
    private static final Membership ABCD = Membership.ofVoters(List.of("a", "b", "c", "d"));

    /** Entries at {@code from, from+1, ...} with the given terms. */
    private static List<Entry> entries(long from, long... terms) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            out.add(Entry.command(from + i, terms[i], new byte[] {(byte) i}));
        }
        return out;
    }

    /** A durable log of entries 1.. with the given terms. */
    private static RaftLog log(long... terms) {
        return new RaftLog(0, 0, entries(1, terms));
    }

    @Test
    void termIsZeroAtZeroAndBeyondTheEndAndMinusOneWhenCompacted() {
        RaftLog l = new RaftLog(3, 2, entries(4, 2, 3));
        assertThat(l.term(3)).as("the snapshot's term").isEqualTo(2);
        assertThat(l.term(2)).as("compacted").isEqualTo(-1);
        assertThat(l.term(4)).isEqualTo(2);
        assertThat(l.term(5)).isEqualTo(3);
        assertThat(l.term(6)).as("beyond the end").isZero();
        assertThat(l.firstIndex()).isEqualTo(4);
        assertThat(l.lastIndex()).isEqualTo(5);
        assertThat(l.lastTerm()).isEqualTo(3);
        assertThat(RaftLog.empty().term(0)).isZero();
        assertThat(RaftLog.empty().lastTerm()).isZero();
    }

    @Test
    void entryOutsideTheLogIsRefused() {
        RaftLog l = new RaftLog(3, 2, entries(4, 2, 3));
        assertThat(l.entry(4).term()).isEqualTo(2);
        assertThat(l.entry(5).term()).isEqualTo(3);
        assertThatThrownBy(() -> l.entry(3)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.entry(6)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void aRecoveredLogMustBeContiguousAndIsDurableButNotCommitted() {
        assertThatThrownBy(() -> new RaftLog(0, 0, entries(2, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected index 1");
        List<Entry> gap = new ArrayList<>(entries(1, 1));
        gap.addAll(entries(3, 1));
        assertThatThrownBy(() -> new RaftLog(0, 0, gap)).isInstanceOf(IllegalArgumentException.class);
        RaftLog l = new RaftLog(5, 2, entries(6, 2, 2));
        assertThat(l.stableIndex()).isEqualTo(7);
        assertThat(l.unstableFrom()).isEqualTo(8);
        assertThat(l.hasUnstable()).isFalse();
        assertThat(l.commitIndex()).as("what a snapshot covers is committed").isEqualTo(5);
    }

    @Test
    void matchTermNeedsTheSameTermAtAnIndexTheLogHolds() {
        RaftLog l = new RaftLog(2, 1, entries(3, 1, 2));
        assertThat(l.matchTerm(2, 1)).as("the snapshot's position matches").isTrue();
        assertThat(l.matchTerm(4, 2)).isTrue();
        assertThat(l.matchTerm(4, 1)).isFalse();
        assertThat(l.matchTerm(5, 0)).as("beyond the end, though term() says 0 there").isFalse();
        assertThat(l.matchTerm(1, -1)).as("compacted, though term() says -1 there").isFalse();
        assertThat(RaftLog.empty().matchTerm(0, 0)).isTrue();
    }

    @Test
    void upToDateComparesLastTermFirstThenLastIndex() {
        RaftLog l = log(1, 2, 2);                       // last (3, 2)
        assertThat(l.isUpToDate(3, 2)).as("equal").isTrue();
        assertThat(l.isUpToDate(4, 2)).as("longer, same term").isTrue();
        assertThat(l.isUpToDate(2, 2)).as("shorter, same term").isFalse();
        assertThat(l.isUpToDate(1, 3)).as("shorter, later term").isTrue();
        assertThat(l.isUpToDate(9, 1)).as("longer, earlier term").isFalse();
    }

    @Test
    void appendMustContinueTheLog() {
        RaftLog l = log(1);
        assertThatThrownBy(() -> l.append(Entry.noop(3, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> l.append(Entry.noop(1, 1))).isInstanceOf(IllegalArgumentException.class);
        l.append(Entry.noop(2, 1));
        assertThat(l.lastIndex()).isEqualTo(2);
        assertThat(l.hasUnstable()).isTrue();
        assertThat(l.unstableFrom()).isEqualTo(2);
    }

    @Test
    void maybeAppendRefusesWhenThePreviousEntryDoesNotMatch() {
        RaftLog l = log(1, 1);
        assertThat(l.maybeAppend(2, 2, entries(3, 2))).isEqualTo(-1);
        assertThat(l.maybeAppend(3, 1, entries(4, 1))).as("a gap").isEqualTo(-1);
        assertThat(l.lastIndex()).isEqualTo(2);
    }

    @Test
    void maybeAppendSkipsWhatItHasAndReturnsTheLastIndexThatMatches() {
        RaftLog l = log(1, 1, 2);
        l.commitTo(3);
        // a stale, shorter append must not truncate entries after it
        assertThat(l.maybeAppend(1, 1, entries(2, 1))).isEqualTo(2);
        assertThat(l.lastIndex()).isEqualTo(3);
        assertThat(l.term(3)).isEqualTo(2);
        assertThat(l.hasUnstable()).isFalse();
        assertThat(l.maybeAppend(2, 1, entries(3, 2, 2))).isEqualTo(4);
        assertThat(l.lastIndex()).isEqualTo(4);
        assertThat(l.unstableFrom()).isEqualTo(4);
    }

    @Test
    void maybeAppendTruncatesAtTheFirstConflictAndTakesTheConfigurationWithIt() {
        RaftLog l = log(1, 1);
        l.append(Entry.config(3, 1, ABCD));
        l.append(Entry.noop(4, 1));
        l.stableTo(4, 1);
        assertThat(l.latestMembership()).isEqualTo(ABCD);
        assertThat(l.latestMembershipIndex()).isEqualTo(3);
        l.commitTo(2);
        assertThat(l.maybeAppend(2, 1, entries(3, 2))).isEqualTo(3);
        assertThat(l.lastIndex()).as("entry 4 went with the conflict at 3").isEqualTo(3);
        assertThat(l.term(3)).isEqualTo(2);
        assertThat(l.latestMembership()).as("the truncated CONFIG entry takes its configuration back").isNull();
        assertThat(l.latestMembershipIndex()).isZero();
        assertThat(l.stableIndex()).isEqualTo(2);
        assertThat(l.unstableFrom()).isEqualTo(3);
        assertThat(l.takeUnstable()).extracting(Entry::index).containsExactly(3L);
    }

    @Test
    void maybeAppendNeverTruncatesACommittedEntry() {
        RaftLog l = log(1, 1, 1);
        l.commitTo(2);
        assertThatThrownBy(() -> l.maybeAppend(1, 1, entries(2, 2)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("committed");
        assertThat(l.term(2)).isEqualTo(1);
        assertThat(l.lastIndex()).isEqualTo(3);
    }

    @Test
    void maybeAppendJustAboveTheCommitIndexTruncates() {
        RaftLog l = log(1, 1, 1);
        l.commitTo(2);
        assertThat(l.maybeAppend(2, 1, entries(3, 2))).isEqualTo(3);
        assertThat(l.term(3)).isEqualTo(2);
    }

    @Test
    void maybeAppendSkipsEntriesCoveredByTheSnapshot() {
        RaftLog l = new RaftLog(3, 1, entries(4, 1));
        assertThat(l.maybeAppend(2, -1, entries(3, 1, 1, 2))).as("prev compacted: no match").isEqualTo(-1);
        assertThat(l.maybeAppend(3, 1, entries(4, 1, 2))).isEqualTo(5);
        assertThat(l.lastIndex()).isEqualTo(5);
        RaftLog m = new RaftLog(3, 1, entries(4, 1));
        // prev is the snapshot's own index; entries at or below it are skipped
        List<Entry> withOld = new ArrayList<>(entries(3, 1));
        withOld.addAll(entries(4, 1, 1));
        assertThat(m.maybeAppend(3, 1, withOld.subList(1, 3))).isEqualTo(5);
    }

    @Test
    void sliceRespectsCountAndBytesButReturnsAtLeastOneEntry() {
        RaftLog l = new RaftLog(0, 0, List.of(Entry.command(1, 1, new byte[10]), Entry.command(2, 1, new byte[10]),
                Entry.command(3, 1, new byte[10])));
        int one = Entry.command(1, 1, new byte[10]).size();
        assertThat(l.slice(1, 10, 1)).as("one entry even if larger than the budget").hasSize(1);
        assertThat(l.slice(1, 10, 2L * one)).hasSize(2);
        assertThat(l.slice(1, 10, 2L * one - 1)).hasSize(1);
        assertThat(l.slice(1, 2, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(1L, 2L);
        assertThat(l.slice(2, 10, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(2L, 3L);
        assertThat(l.slice(3, 10, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(3L);
        assertThat(l.slice(4, 10, Long.MAX_VALUE)).isEmpty();
        l.commitTo(1);
        l.compact(1);
        assertThatThrownBy(() -> l.slice(1, 10, 100)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(l.slice(2, 10, Long.MAX_VALUE)).hasSize(2);
    }

    @Test
    void rangeIsInclusiveAndEmptyWhenReversed() {
        RaftLog l = log(1, 1, 2);
        assertThat(l.range(2, 3)).extracting(Entry::index).containsExactly(2L, 3L);
        assertThat(l.range(2, 2)).extracting(Entry::index).containsExactly(2L);
        assertThat(l.range(3, 2)).isEmpty();
    }

    @Test
    void unstableEntriesAreHandedOutOnceAndBecomeStableOnlyWithTheirTerm() {
        RaftLog l = log(1);
        assertThat(l.takeUnstable()).isEmpty();
        l.append(Entry.noop(2, 2));
        l.append(Entry.noop(3, 2));
        assertThat(l.takeUnstable()).extracting(Entry::index).containsExactly(2L, 3L);
        assertThat(l.takeUnstable()).isEmpty();
        assertThat(l.hasUnstable()).isFalse();
        assertThat(l.stableIndex()).isEqualTo(1);
        l.stableTo(3, 1);
        assertThat(l.stableIndex()).as("a term that no longer matches (truncated since)").isEqualTo(1);
        l.stableTo(4, 2);
        assertThat(l.stableIndex()).as("beyond the end").isEqualTo(1);
        l.stableTo(3, 2);
        assertThat(l.stableIndex()).isEqualTo(3);
        l.stableTo(2, 2);
        assertThat(l.stableIndex()).as("never lowered").isEqualTo(3);
    }

    @Test
    void commitIndexNeverFallsAndNeverPassesTheLastEntry() {
        RaftLog l = log(1, 1);
        l.commitTo(2);
        assertThat(l.commitIndex()).isEqualTo(2);
        l.commitTo(1);
        assertThat(l.commitIndex()).isEqualTo(2);
        assertThatThrownBy(() -> l.commitTo(3)).isInstanceOf(IllegalStateException.class);
        assertThat(l.commitIndex()).isEqualTo(2);
    }

    @Test
    void compactionKeepsOnlyCommittedDurableEntriesOutAndRemembersTheConfiguration() {
        RaftLog l = log(1);
        l.append(Entry.config(2, 1, ABCD));
        l.append(Entry.noop(3, 2));
        l.append(Entry.noop(4, 2));
        l.takeUnstable();
        l.stableTo(3, 2);
        l.commitTo(4);
        assertThatThrownBy(() -> l.compact(4)).as("not durable").isInstanceOf(IllegalArgumentException.class);
        RaftLog notCommitted = log(1, 1);
        notCommitted.commitTo(1);
        assertThatThrownBy(() -> notCommitted.compact(2)).isInstanceOf(IllegalArgumentException.class);
        l.compact(3);
        assertThat(l.snapshotIndex()).isEqualTo(3);
        assertThat(l.snapshotTerm()).isEqualTo(2);
        assertThat(l.firstIndex()).isEqualTo(4);
        assertThat(l.snapshotMembership()).isEqualTo(ABCD);
        assertThat(l.membershipAt(3)).isEqualTo(ABCD);
        assertThat(l.latestMembership()).isEqualTo(ABCD);
        assertThat(l.latestMembershipIndex()).as("no CONFIG entry after the snapshot").isEqualTo(3);
        assertThat(l.entry(4).term()).isEqualTo(2);
        l.compact(2); // already compacted: nothing happens
        assertThat(l.snapshotIndex()).isEqualTo(3);
        l.compact(3);
        assertThat(l.snapshotIndex()).isEqualTo(3);
    }

    @Test
    void membershipAtIsTheLastConfigurationAtOrBeforeTheIndex() {
        RaftLog l = new RaftLog(1, 1, ABC, entries(2, 1));
        l.append(Entry.config(3, 1, ABCD));
        l.append(Entry.noop(4, 1));
        assertThat(l.membershipAt(2)).isEqualTo(ABC);
        assertThat(l.membershipAt(3)).isEqualTo(ABCD);
        assertThat(l.membershipAt(4)).isEqualTo(ABCD);
        assertThat(l.latestMembershipIndex()).isEqualTo(3);
        assertThat(RaftLog.empty().membershipAt(5)).isNull();
        assertThat(RaftLog.empty().latestMembership()).isNull();
    }

    @Test
    void aSnapshotTheLogHoldsKeepsTheEntriesAfterIt() {
        RaftLog l = log(1, 1, 2, 2);
        l.append(Entry.noop(5, 2));
        l.commitTo(1);
        assertThat(l.installSnapshot(3, 2, null)).isTrue();
        assertThat(l.snapshotIndex()).isEqualTo(3);
        assertThat(l.snapshotTerm()).isEqualTo(2);
        assertThat(l.commitIndex()).isEqualTo(3);
        assertThat(l.lastIndex()).isEqualTo(5);
        assertThat(l.entry(4).term()).isEqualTo(2);
        assertThat(l.stableIndex()).isEqualTo(4);
        assertThat(l.unstableFrom()).as("entry 5 still waits to be handed out").isEqualTo(5);
        assertThat(l.takeUnstable()).extracting(Entry::index).containsExactly(5L);
    }

    @Test
    void aKeptSnapshotRaisesStableAndUnstableToIt() {
        RaftLog l = log(1);
        l.append(Entry.noop(2, 1));
        l.append(Entry.noop(3, 1));
        assertThat(l.installSnapshot(2, 1, null)).isTrue();
        assertThat(l.stableIndex()).isEqualTo(2);
        assertThat(l.unstableFrom()).isEqualTo(3);
    }

    @Test
    void aSnapshotTheLogDoesNotHoldDiscardsTheLog() {
        RaftLog l = log(1, 1);
        l.append(Entry.config(3, 1, ABCD));
        assertThat(l.installSnapshot(3, 2, ABC)).as("conflicting term at 3").isFalse();
        assertThat(l.lastIndex()).isEqualTo(3);
        assertThat(l.firstIndex()).isEqualTo(4);
        assertThat(l.stableIndex()).isEqualTo(3);
        assertThat(l.unstableFrom()).isEqualTo(4);
        assertThat(l.hasUnstable()).isFalse();
        assertThat(l.commitIndex()).isEqualTo(3);
        assertThat(l.latestMembership()).as("the discarded CONFIG entry is gone").isEqualTo(ABC);
        assertThat(l.latestMembershipIndex()).isEqualTo(3);
        RaftLog shorter = log(1);
        assertThat(shorter.installSnapshot(5, 1, null)).as("beyond the end").isFalse();
        assertThat(shorter.lastIndex()).isEqualTo(5);
        assertThat(shorter.snapshotMembership()).isNull();
    }

    @Test
    void aKeptSnapshotWithoutAConfigurationTakesTheOneTheLogHasThere() {
        RaftLog l = log(1);
        l.append(Entry.config(2, 1, ABCD));
        l.append(Entry.noop(3, 1));
        l.installSnapshot(3, 1, null);
        assertThat(l.snapshotMembership()).isEqualTo(ABCD);
        assertThat(l.membershipAt(3)).isEqualTo(ABCD);
        RaftLog given = log(1);
        given.append(Entry.config(2, 1, ABCD));
        given.installSnapshot(2, 1, ABC);
        assertThat(given.snapshotMembership()).as("the snapshot's own wins").isEqualTo(ABC);
    }

    @Test
    void aSnapshotNeverReplacesCommittedEntries() {
        RaftLog l = log(1, 1, 1);
        l.commitTo(2);
        assertThatThrownBy(() -> l.installSnapshot(2, 1, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> l.installSnapshot(1, 1, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(l.installSnapshot(3, 1, null)).isTrue();
    }

    @Test
    void theProbeHintIsTheLastIndexWhoseTermIsAtMostTheConflictingOne() {
        RaftLog l = log(1, 1, 2, 2, 3);
        assertThat(l.lastIndexWithTermAtMost(5, 2)).isEqualTo(4);
        assertThat(l.lastIndexWithTermAtMost(5, 1)).isEqualTo(2);
        assertThat(l.lastIndexWithTermAtMost(5, 3)).isEqualTo(5);
        assertThat(l.lastIndexWithTermAtMost(9, 3)).as("capped at the last index").isEqualTo(5);
        assertThat(l.lastIndexWithTermAtMost(5, 0)).isZero();
        RaftLog compacted = new RaftLog(2, 1, entries(3, 2, 2));
        assertThat(compacted.lastIndexWithTermAtMost(4, 1)).as("stops at the snapshot").isEqualTo(2);
    }
}
