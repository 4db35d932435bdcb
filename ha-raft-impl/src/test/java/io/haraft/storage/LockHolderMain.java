package io.haraft.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Run in a separate JVM by {@link CrossProcessLockTest}: opens a store in the directory given as
 * argument, prints {@code OPEN}, and keeps it open until its standard input closes.
 */
public final class LockHolderMain {
    private LockHolderMain() {
    }

    public static void main(String[] args) throws IOException {
        try (FileRaftStorage s = FileRaftStorage.open(Path.of(args[0]))) {
            System.out.println("OPEN " + s.directory());
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to close our stdin
            }
        }
    }
}
