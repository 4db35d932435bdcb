package io.haraft.examples.boot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * An example Spring Boot service on {@code ha-raft-spring-boot-starter}: three instances elect a
 * leader; only the leader runs a job that writes a row to PostgreSQL every tick, through a
 * {@code JdbcFence} with its fencing token; {@code GET /leader} says who leads.
 *
 * <p>Each instance gets its own {@code haraft.node-id}, {@code haraft.data-dir} and
 * {@code server.port}, and the same {@code haraft.members.*}; the rest is in
 * {@code application.properties}:
 * <pre>{@code
 * java -cp ... io.haraft.examples.boot.TickServiceApplication --haraft.node-id=n1 \
 *     --haraft.members.n1=127.0.0.1:7101 --haraft.members.n2=127.0.0.1:7102 \
 *     --haraft.members.n3=127.0.0.1:7103 --haraft.data-dir=/tmp/ticks/n1 --server.port=8081
 * }</pre>
 */
@SpringBootApplication
@EnableConfigurationProperties(TickProperties.class)
public class TickServiceApplication {

    /** Starts the service; arguments are Spring Boot's ({@code --name=value}). */
    public static void main(String[] args) {
        SpringApplication.run(TickServiceApplication.class, args);
    }
}
