package io.haraft.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One suite's result rows, written as CSV (RFC 4180 quoting) and as a Markdown table. */
final class Table {

    private final List<String> columns;
    private final List<List<String>> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    Table(String... columns) {
        this.columns = List.of(columns);
    }

    void add(Object... cells) {
        if (cells.length != columns.size()) {
            throw new IllegalArgumentException("expected " + columns.size() + " cells, got " + cells.length);
        }
        List<String> row = new ArrayList<>();
        for (Object c : cells) {
            row.add(c == null ? "" : c.toString());
        }
        rows.add(row);
    }

    void note(String line) {
        notes.add(line);
    }

    List<String> columns() {
        return columns;
    }

    List<List<String>> rows() {
        return rows;
    }

    String csv() {
        StringBuilder sb = new StringBuilder(String.join(",", columns)).append('\n');
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(csvCell(row.get(i)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String csvCell(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    String markdown(String title) {
        StringBuilder sb = new StringBuilder("### ").append(title).append("\n\n| ")
                .append(String.join(" | ", columns)).append(" |\n|");
        for (int i = 0; i < columns.size(); i++) {
            sb.append("---|");
        }
        sb.append('\n');
        for (List<String> row : rows) {
            sb.append("| ");
            for (int i = 0; i < row.size(); i++) {
                sb.append(i == 0 ? "" : " | ").append(row.get(i).replace("|", "\\|"));
            }
            sb.append(" |\n");
        }
        if (!notes.isEmpty()) {
            sb.append('\n');
            for (String n : notes) {
                sb.append("- ").append(n).append('\n');
            }
        }
        return sb.toString();
    }

    void write(Path dir, String suite, String title) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(suite + ".csv"), csv(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(suite + ".md"), markdown(title), StandardCharsets.UTF_8);
    }

    static String ms(double v) {
        return String.format(java.util.Locale.ROOT, "%.1f", v);
    }

    static String ms3(double v) {
        return String.format(java.util.Locale.ROOT, "%.3f", v);
    }
}
