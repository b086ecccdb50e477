import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * bench/run.py's Java kafka-clients baseline: a fresh idempotent (acks=all) KafkaProducer sends one 100-byte
 * message and waits for its acknowledgement, once per line read from stdin, until stdin ends.
 *
 * <p>Usage: {@code java -cp <classes>:<kafka-clients jars> FirstAck <bootstrap servers> <topic>}. For each line it
 * prints {@code ack <ns from new KafkaProducer to the acknowledgement> <partition> <offset>} as soon as the ack
 * comes, then closes the producer and prints {@code closed <ns close() took>}, so the caller can time the process
 * launch to the ack line (a cold JVM) or keep one JVM and send more lines (a warm one).
 */
public final class FirstAck {
    private FirstAck() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: FirstAck <bootstrap servers> <topic>");
            System.exit(2);
        }
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        byte[] payload = new byte[100];
        Arrays.fill(payload, (byte) 'x');
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (lines.readLine() != null) {
            long start = System.nanoTime();
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config);
            Future<RecordMetadata> sent = producer.send(new ProducerRecord<>(args[1], payload));
            producer.flush(); // as the operator's execute() does: send now, not after linger.ms (5 ms by default)
            RecordMetadata ack = sent.get();
            long acknowledged = System.nanoTime();
            System.out.println("ack " + (acknowledged - start) + " " + ack.partition() + " " + ack.offset());
            System.out.flush();
            producer.close();
            System.out.println("closed " + (System.nanoTime() - acknowledged));
            System.out.flush();
        }
    }
}
