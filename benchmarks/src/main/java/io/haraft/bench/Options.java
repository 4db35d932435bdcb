package io.haraft.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * Command line: {@code <suite> --systems haraft,ratis,atomix [--reps N] [--seconds S] [--quick] [--strict]
 * --out DIR}.
 *
 * @param reps      failover repetitions per scenario (default 30, quick 3)
 * @param seconds   throughput measurement per client count (default 10, quick 2) and footprint's
 *                  idle window (default 30, quick 5)
 * @param strict    exit 1 unless every system has a measured, available row in every suite's CSV
 *                  ({@link Completeness}); without it an unavailable system is a row and the run goes on
 * @param groups    the {@code groups} suite's group counts ({@code --groups 1,100,1000}); empty: its default
 */
record Options(String suite, List<String> systems, int reps, int seconds, boolean quick, boolean strict, Path out,
               List<Integer> groups) {

    static final String USAGE = "usage: java -jar ha-raft-benchmarks.jar <failover|throughput|footprint|groups|all>"
            + " [--systems haraft,ratis,atomix] [--reps N] [--seconds S] [--quick] [--strict] [--groups 1,100,1000]"
            + " --out DIR\n"
            + "   or: java -jar ha-raft-benchmarks.jar storage [seconds per case] [data dir parent] [emulated fsync µs]";

    static Options parse(String[] args) {
        if (args.length == 0) {
            throw new IllegalArgumentException(USAGE);
        }
        String suite = args[0];
        if (!List.of("failover", "throughput", "footprint", "groups", "all").contains(suite)) {
            throw new IllegalArgumentException("unknown suite " + suite + "\n" + USAGE);
        }
        List<String> systems = List.of("haraft", "ratis", "atomix");
        Integer reps = null;
        Integer seconds = null;
        boolean quick = false;
        boolean strict = false;
        Path out = null;
        List<Integer> groups = List.of();
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--systems" -> systems = List.of(args[++i].split(","));
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                case "--strict" -> strict = true;
                case "--out" -> out = Path.of(args[++i]);
                case "--groups" -> groups = java.util.Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + USAGE);
            }
        }
        for (String s : systems) {
            if (!List.of("haraft", "ratis", "atomix").contains(s)) {
                throw new IllegalArgumentException("unknown system " + s + " (haraft, ratis, atomix)");
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("--out DIR is required\n" + USAGE);
        }
        return new Options(suite, systems, reps != null ? reps : quick ? 3 : 30,
                seconds != null ? seconds : quick ? 2 : 10, quick, strict, out, groups);
    }

    /** Settings to run per system: ours-equal always; the alternative (peer defaults) unless quick. */
    List<Settings> settings(String system) {
        return quick ? List.of(Settings.equal(system)) : List.of(Settings.equal(system), Settings.alternative(system));
    }

    int idleSeconds() {
        return quick ? Math.min(seconds, 5) : Math.max(seconds, 30);
    }
}
