package io.haraft.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Joins one suite's results from several runs (say, the failover suite run once per system) into
 * one {@code DIR/<suite>.csv}, {@code .md} and {@code .png}:
 * {@code java -cp ha-raft-benchmarks.jar io.haraft.bench.Merge <suite> OUT_DIR IN_DIR...}. Rows keep
 * their order; the notes of every run are kept once each.
 */
public final class Merge {

    private Merge() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: Merge <failover|throughput|footprint> OUT_DIR IN_DIR...");
            System.exit(64);
        }
        System.setProperty("java.awt.headless", "true");
        String suite = args[0];
        Path out = Path.of(args[1]);
        Table merged = null;
        Set<String> notes = new LinkedHashSet<>();
        String title = suite;
        for (int i = 2; i < args.length; i++) {
            Path in = Path.of(args[i]);
            List<String> lines = Files.readAllLines(in.resolve(suite + ".csv"), StandardCharsets.UTF_8);
            List<String> header = parseCsvLine(lines.get(0));
            if (merged == null) {
                merged = new Table(header.toArray(String[]::new));
            }
            for (String line : lines.subList(1, lines.size())) {
                if (!line.isBlank()) {
                    merged.add(parseCsvLine(line).toArray());
                }
            }
            for (String md : Files.readAllLines(in.resolve(suite + ".md"), StandardCharsets.UTF_8)) {
                if (md.startsWith("### ")) {
                    title = md.substring(4);
                } else if (md.startsWith("- ")) {
                    notes.add((args.length > 3 && (md.startsWith("- suite took") || md.startsWith("- machine load"))
                            ? "[" + in.getFileName() + "] " : "") + md.substring(2));
                }
            }
        }
        for (String n : notes) {
            merged.note(n);
        }
        merged.write(out, suite, title);
        Main.chart(out, suite, merged);
        System.out.println(merged.markdown(title));
    }

    /** One RFC 4180 line (no line breaks inside cells, which {@link Table} never writes). */
    static List<String> parseCsvLine(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    cell.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        cells.add(cell.toString());
        return cells;
    }
}
