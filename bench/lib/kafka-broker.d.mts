export const KAFKA_LIBS: string;
export function kafkaProvisioned(): boolean;
export interface KafkaBrokerProcess {
  /** `127.0.0.1:<port>`: the value of BRIDGE_KAFKA_BROKERS. */
  bootstrap: string;
  pid(): number | undefined;
  logFile: string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and log dir; resolves when it takes connections. */
  restart(): Promise<void>;
  /** Stops it and removes its log dir. */
  stop(): Promise<void>;
}
export function startKafkaBroker(options?: { logFile?: string }): Promise<KafkaBrokerProcess>;
