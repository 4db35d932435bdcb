package io.haraft.core.quorum;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One configuration of the cluster: its members in order, each with the address peers dial and
 * its role. It is stored in the log (an entry of kind {@code CONFIG}) and in snapshots, and every
 * node uses the latest configuration in its log, committed or not (see {@link Quorum} for why
 * that is safe with one change at a time).
 *
 * <p>Roles: a {@link Role#VOTER} votes, counts for commit and can lead; a {@link Role#WITNESS}
 * votes and counts for commit but never leads and never stores payloads; a {@link Role#LEARNER}
 * (or {@link Role#WITNESS_LEARNER}, a witness that is not yet voting) receives the log and counts
 * for nothing.
 *
 * <p>Immutable. {@link #encode()} and {@link #decode(byte[])} give a versioned byte form that the
 * core, the store and the transport share.
 *
 * <pre>{@code
 * Membership m = Membership.ofVoters(List.of("n1", "n2", "n3"));
 * Membership grown = m.withMember(new Membership.Member("n4", "10.0.0.4:7000", Membership.Role.LEARNER));
 * Membership promoted = grown.withRole("n4", Membership.Role.VOTER);
 * }</pre>
 */
public final class Membership {
    private static final int FORMAT = 1;

    /**
     * What a member does in the cluster: whether it votes (and counts for commit), whether it may
     * lead, and whether it stores payloads. A member changes role only through a new configuration
     * (a learner is promoted to {@link #promoted()}); a witness never becomes a data node or back.
     */
    public enum Role {
        /** Votes, counts for commit and can lead. */
        VOTER,
        /** Receives the log; neither votes nor counts for commit. */
        LEARNER,
        /** Votes and counts for commit; stores only terms and indexes, never leads. */
        WITNESS,
        /** A witness that is catching up and does not vote yet. */
        WITNESS_LEARNER;

        /** Whether members of this role vote and count for commit. */
        public boolean votes() {
            return this == VOTER || this == WITNESS;
        }

        /** Whether members of this role store only (index, term) of entries, never payloads. */
        public boolean isWitness() {
            return this == WITNESS || this == WITNESS_LEARNER;
        }

        /** The voting role a learner of this kind is promoted to. */
        public Role promoted() {
            return isWitness() ? WITNESS : VOTER;
        }
    }

    /**
     * One member of a configuration. Immutable; equal when id, address and role are equal.
     * Validated on construction: no null component and no blank id (ids are otherwise checked
     * where they come from, {@code RaftConfig}); uniqueness of ids is the configuration's check.
     *
     * @param id      the node id
     * @param address where peers reach it ({@code host:port}); may be empty where no transport needs it
     * @param role    what it does
     */
    public record Member(String id, String address, Role role) {
        /**
         * Validates.
         *
         * @throws NullPointerException     if a component is null
         * @throws IllegalArgumentException if {@code id} is blank
         */
        public Member {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(role, "role");
            if (id.isBlank()) {
                throw new IllegalArgumentException("member id must not be blank");
            }
        }
    }

    private final List<Member> members;
    // derived from members once: the core asks for them on every heartbeat a follower handles
    private final List<String> ids;
    private final List<String> voters;
    private final Quorum quorum;

    private Membership(List<Member> members) {
        this.members = List.copyOf(members);
        if (this.members.stream().map(Member::id).distinct().count() != this.members.size()) {
            throw new IllegalArgumentException("duplicate member ids in " + members);
        }
        if (this.members.stream().noneMatch(m -> m.role().votes())) {
            throw new IllegalArgumentException("a configuration needs at least one voter: " + members);
        }
        if (this.members.stream().noneMatch(m -> m.role() == Role.VOTER)) {
            throw new IllegalArgumentException("a configuration needs at least one voter that can lead "
                    + "(witnesses never lead): " + members);
        }
        this.ids = this.members.stream().map(Member::id).toList();
        this.voters = this.members.stream().filter(m -> m.role().votes()).map(Member::id).toList();
        this.quorum = Quorum.of(voters);
    }

    /** A configuration of the given members. */
    public static Membership of(Collection<Member> members) {
        return new Membership(List.copyOf(members));
    }

    /** Voters only, without addresses (tests and the simulator). */
    public static Membership ofVoters(Collection<String> ids) {
        List<Member> ms = new ArrayList<>();
        for (String id : ids) {
            ms.add(new Member(id, "", Role.VOTER));
        }
        return new Membership(ms);
    }

    public List<Member> members() {
        return members;
    }

    /** The member with this id, if any. */
    public Optional<Member> member(String id) {
        for (Member m : members) {
            if (m.id().equals(id)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** Whether {@code id} is a member in any role. */
    public boolean contains(String id) {
        return member(id).isPresent();
    }

    /** Whether {@code id} votes (voters and witnesses). */
    public boolean isVoter(String id) {
        return member(id).map(m -> m.role().votes()).orElse(false);
    }

    /** Whether {@code id} may lead: a voter that is not a witness. */
    public boolean canLead(String id) {
        return member(id).map(m -> m.role() == Role.VOTER).orElse(false);
    }

    /** Whether {@code id} is a witness (voting or not). */
    public boolean isWitness(String id) {
        return member(id).map(m -> m.role().isWitness()).orElse(false);
    }

    /** The ids of the voting members (voters and witnesses), in order. */
    public List<String> voters() {
        return voters;
    }

    /** The ids of all members, in order. */
    public List<String> ids() {
        return ids;
    }

    /** The simple-majority quorum of the voting members. */
    public Quorum quorum() {
        return quorum;
    }

    /** This configuration with {@code m} added at the end, or replacing the member of the same id. */
    public Membership withMember(Member m) {
        List<Member> out = new ArrayList<>();
        boolean replaced = false;
        for (Member x : members) {
            if (x.id().equals(m.id())) {
                out.add(m);
                replaced = true;
            } else {
                out.add(x);
            }
        }
        if (!replaced) {
            out.add(m);
        }
        return new Membership(out);
    }

    /** This configuration with the role of {@code id} changed. */
    public Membership withRole(String id, Role role) {
        Member m = member(id).orElseThrow(() -> new IllegalArgumentException(id + " is not a member of " + this));
        return withMember(new Member(id, m.address(), role));
    }

    /** This configuration without {@code id}. */
    public Membership without(String id) {
        return new Membership(members.stream().filter(m -> !m.id().equals(id)).toList());
    }

    /**
     * How many voting members differ between this configuration and {@code other}: added, removed,
     * or changed between voting and non-voting. Single-server changes keep this at most 1.
     */
    public int votingDifference(Membership other) {
        int d = 0;
        for (String v : voters()) {
            if (!other.isVoter(v)) {
                d++;
            }
        }
        for (String v : other.voters()) {
            if (!isVoter(v)) {
                d++;
            }
        }
        return d;
    }

    /**
     * The versioned byte form stored in CONFIG entries and snapshot metadata: a format byte, the
     * member count, then per member its id and address (a length and UTF-16 code units) and its
     * role. Written by hand because the core does no I/O, not even through streams.
     */
    public byte[] encode() {
        int size = 1 + 4;
        for (Member m : members) {
            size += 4 + 2 * m.id().length() + 4 + 2 * m.address().length() + 1;
        }
        byte[] out = new byte[size];
        int[] pos = {0};
        out[pos[0]++] = FORMAT;
        putInt(out, pos, members.size());
        for (Member m : members) {
            putString(out, pos, m.id());
            putString(out, pos, m.address());
            out[pos[0]++] = (byte) m.role().ordinal();
        }
        return out;
    }

    private static void putInt(byte[] out, int[] pos, int v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            out[pos[0]++] = (byte) (v >>> shift);
        }
    }

    private static void putString(byte[] out, int[] pos, String s) {
        putInt(out, pos, s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out[pos[0]++] = (byte) (c >>> 8);
            out[pos[0]++] = (byte) c;
        }
    }

    /**
     * Reads the form written by {@link #encode()}.
     *
     * @throws IllegalArgumentException if the bytes are not a configuration of a known format
     */
    public static Membership decode(byte[] data) {
        Reader in = new Reader(data);
        int format = in.u8();
        if (format != FORMAT) {
            throw new IllegalArgumentException("unknown configuration format " + format + " (this version reads "
                    + FORMAT + "); was the log written by a newer HA-Raft?");
        }
        int n = in.i32();
        if (n < 1 || n > 1000) {
            throw new IllegalArgumentException("corrupt configuration: " + n + " members");
        }
        List<Member> ms = new ArrayList<>();
        Role[] roles = Role.values();
        for (int i = 0; i < n; i++) {
            String id = in.string();
            String address = in.string();
            int r = in.u8();
            if (r >= roles.length) {
                throw new IllegalArgumentException("corrupt configuration: unknown role " + r + " of " + id);
            }
            ms.add(new Member(id, address, roles[r]));
        }
        if (in.pos != data.length) {
            throw new IllegalArgumentException("corrupt configuration: " + (data.length - in.pos) + " trailing bytes");
        }
        return new Membership(ms);
    }

    private static final class Reader {
        private final byte[] data;
        private int pos;

        Reader(byte[] data) {
            this.data = data;
        }

        private void need(int n) {
            if (pos + n > data.length || n < 0) {
                throw new IllegalArgumentException("corrupt configuration: truncated at byte " + pos + " of "
                        + data.length);
            }
        }

        int u8() {
            need(1);
            return data[pos++] & 0xFF;
        }

        int i32() {
            need(4);
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | (data[pos++] & 0xFF);
            }
            return v;
        }

        String string() {
            int len = i32();
            if (len < 0 || len > 4096) {
                throw new IllegalArgumentException("corrupt configuration: string of length " + len);
            }
            need(2 * len);
            char[] cs = new char[len];
            for (int i = 0; i < len; i++) {
                cs[i] = (char) (((data[pos] & 0xFF) << 8) | (data[pos + 1] & 0xFF));
                pos += 2;
            }
            return new String(cs);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Membership m && m.members.equals(members);
    }

    @Override
    public int hashCode() {
        return members.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (Member m : members) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(m.id());
            if (m.role() != Role.VOTER) {
                sb.append('(').append(m.role().name().toLowerCase(java.util.Locale.ROOT)).append(')');
            }
        }
        return sb.append(']').toString();
    }
}
