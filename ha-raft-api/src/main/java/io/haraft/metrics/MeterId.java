package io.haraft.metrics;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The identity of one meter: its name, its tags, and what it measures, in the shape Micrometer,
 * Prometheus and OpenTelemetry all accept.
 *
 * <p><b>Guarantees.</b> Immutable; the tags are an unmodifiable copy, sorted by key. Names and tag
 * keys are dot-separated lowercase words ({@code haraft.commit.latency}, {@code peer}); the ids
 * of clusters, nodes and peers are tag values, never part of a name. Two ids are equal when all
 * their components are. The meters HA-Raft registers, with their tags and units, are listed in
 * the documentation of metrics (docs/metrics.md in the repository).
 *
 * <pre>{@code
 * MeterId id = MeterId.of("haraft.commit.latency", "From submit to commit, on the leader", "seconds",
 *         Map.of("cluster", "orders", "node", "n1", "group", "default"));
 * }</pre>
 *
 * @param name        the meter's name, such as {@code haraft.leader}
 * @param description one sentence saying what it measures
 * @param baseUnit    the unit of its values ({@code seconds}, {@code bytes}, {@code entries}, ...);
 *                    empty for a plain count or a ratio
 * @param tags        the dimensions, such as {@code cluster}, {@code node}, {@code group},
 *                    {@code peer}
 */
public record MeterId(String name, String description, String baseUnit, Map<String, String> tags) {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*");

    /**
     * Validates and copies.
     *
     * @throws NullPointerException     if a component, a tag key or a tag value is null
     * @throws IllegalArgumentException if the name or a tag key is not dot-separated lowercase
     *                                  words
     */
    public MeterId {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(baseUnit, "baseUnit (use \"\" for none)");
        Objects.requireNonNull(tags, "tags");
        check("meter name", name);
        TreeMap<String, String> sorted = new TreeMap<>();
        tags.forEach((k, v) -> {
            check("tag key", Objects.requireNonNull(k, "tag key"));
            sorted.put(k, Objects.requireNonNull(v, () -> "value of tag " + k));
        });
        tags = java.util.Collections.unmodifiableMap(sorted);
    }

    /** Same as the canonical constructor. */
    public static MeterId of(String name, String description, String baseUnit, Map<String, String> tags) {
        return new MeterId(name, description, baseUnit, tags);
    }

    /** A copy with one more tag (or {@code key} set to {@code value}). */
    public MeterId withTag(String key, String value) {
        TreeMap<String, String> more = new TreeMap<>(tags);
        more.put(key, value);
        return new MeterId(name, description, baseUnit, more);
    }

    private static void check(String what, String s) {
        if (!NAME.matcher(s).matches()) {
            throw new IllegalArgumentException(what + " '" + s + "' must be dot-separated lowercase words"
                    + " (letters, digits and _, each word starting with a letter), such as haraft.commit.latency;"
                    + " put ids into tag values, not into names");
        }
    }
}
