package io.haraft.core.log;

import io.haraft.core.quorum.Membership;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An entry is its position, kind and bytes: equal by content, copied on the way in and out, and
 * stored by a witness without a command's payload but whole otherwise.
 */
class EntryTest {
    private static final Membership THREE = Membership.ofVoters(List.of("n1", "n2", "n3"));

    @Test
    void entriesAreEqualByPositionKindAndBytes() {
        Entry e = Entry.command(4, 2, new byte[] {1, 2});
        Entry same = Entry.of(4, 2, Entry.Kind.COMMAND, new byte[] {1, 2});
        assertThat(e).isEqualTo(same).hasSameHashCodeAs(same);
        List<Entry> others = List.of(Entry.command(5, 2, new byte[] {1, 2}), Entry.command(4, 3, new byte[] {1, 2}),
                Entry.of(4, 2, Entry.Kind.NOOP, new byte[] {1, 2}), Entry.command(4, 2, new byte[] {1, 3}));
        for (Entry other : others) {
            assertThat(e).as("differs from %s", other).isNotEqualTo(other);
        }
        assertThat(e).isNotEqualTo("Entry{4@2 2B}");
        Set<Integer> hashes = Stream.concat(Stream.of(e), others.stream()).map(Object::hashCode)
                .collect(Collectors.toSet());
        assertThat(hashes).as("the hash depends on position, kind and bytes").hasSizeGreaterThan(3);
    }

    @Test
    void thePayloadIsCopiedOnTheWayInAndOut() {
        byte[] in = {1, 2};
        Entry e = Entry.of(4, 2, Entry.Kind.COMMAND, in);
        in[0] = 9;
        e.data()[1] = 9;
        assertThat(e.data()).containsExactly(1, 2);
        assertThat(e.size()).isEqualTo(2);
    }

    @Test
    void movingAnEntryKeepsItsKindAndBytes() {
        Entry moved = Entry.command(1, 1, new byte[] {7}).withPosition(6, 3);
        assertThat(moved).isEqualTo(Entry.command(6, 3, new byte[] {7}));
    }

    @Test
    void aWitnessStoresCommandsWithoutPayloadAndEverythingElseWhole() {
        assertThat(Entry.command(4, 2, new byte[] {1}).forWitness()).isEqualTo(Entry.command(4, 2, new byte[0]));
        Entry empty = Entry.command(4, 2, new byte[0]);
        assertThat(empty.forWitness()).isSameAs(empty);
        Entry config = Entry.config(5, 2, THREE);
        assertThat(config.forWitness()).isSameAs(config);
        assertThat(config.forWitness().membership()).isEqualTo(THREE);
        Entry first = Entry.of(1, 1, Entry.Kind.NOOP, new byte[16]);
        assertThat(first.forWitness()).as("the first no-op carries the cluster identity").isSameAs(first);
    }

    @Test
    void onlyAConfigurationEntryHasAMembership() {
        assertThatThrownBy(() -> Entry.noop(3, 1).membership()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anEntrySaysWhatItIs() {
        assertThat(Entry.noop(3, 1)).hasToString("Entry{3@1 noop}");
        assertThat(Entry.config(3, 1, THREE)).hasToString("Entry{3@1 config}");
        assertThat(Entry.command(3, 1, new byte[5])).hasToString("Entry{3@1 5B}");
    }

    @Test
    void positionsStartAtOne() {
        assertThatThrownBy(() -> Entry.noop(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Entry.noop(1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Entry.noop(1, 1).index()).isEqualTo(1);
    }
}
