package io.haraft.bench.node;

import io.atomix.primitive.PrimitiveBuilder;
import io.atomix.primitive.PrimitiveManagementService;
import io.atomix.primitive.PrimitiveType;
import io.atomix.primitive.config.PrimitiveConfig;
import io.atomix.primitive.operation.OperationId;
import io.atomix.primitive.service.AbstractPrimitiveService;
import io.atomix.primitive.service.BackupInput;
import io.atomix.primitive.service.BackupOutput;
import io.atomix.primitive.service.Commit;
import io.atomix.primitive.service.PrimitiveService;
import io.atomix.primitive.service.ServiceConfig;
import io.atomix.primitive.service.ServiceExecutor;
import java.util.function.Consumer;

/**
 * The trivial replicated service the Atomix nodes run: one command, {@code put}, that accepts an
 * entry and does nothing with it (the same work as the other systems' state machines). Atomix's
 * RaftServer refuses to start without at least one primitive type, and its RaftClient can only
 * submit commands to a service through a session.
 */
@SuppressWarnings({"rawtypes", "unchecked"})
final class AtomixPrimitive implements PrimitiveType {

    static final AtomixPrimitive TYPE = new AtomixPrimitive();
    static final OperationId PUT = OperationId.command("put");

    @Override
    public String name() {
        return "bench-log";
    }

    @Override
    public PrimitiveConfig newConfig() {
        return new Config();
    }

    @Override
    public PrimitiveBuilder newBuilder(String name, PrimitiveConfig config, PrimitiveManagementService management) {
        throw new UnsupportedOperationException("the benchmark uses RaftClient sessions directly");
    }

    @Override
    public PrimitiveService newService(ServiceConfig config) {
        return new Service();
    }

    static final class Config extends PrimitiveConfig<Config> {
        @Override
        public PrimitiveType getType() {
            return TYPE;
        }
    }

    static final class Service extends AbstractPrimitiveService<Object> {
        Service() {
            super(TYPE);
        }

        @Override
        protected void configure(ServiceExecutor executor) {
            executor.register(PUT, (Consumer<Commit<byte[]>>) commit -> {
            });
        }

        @Override
        public void backup(BackupOutput output) {
        }

        @Override
        public void restore(BackupInput input) {
        }
    }
}
