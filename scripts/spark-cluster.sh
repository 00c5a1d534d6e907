#!/usr/bin/env bash
# A Spark standalone cluster on this machine, on loopback only, for the `spark_thrift` target (docs/engines.md):
# a master, workers with work folders of their own, and the Spark Thrift server (HiveThriftServer2) submitted to that
# master as an application whose executors run on the workers, with a Derby metastore and a warehouse folder of its
# own. Everything runs from the pyspark package's jars and bin/spark-class: nothing is downloaded.
#   scripts/spark-cluster.sh start DIR    start what is not running yet (so it also restarts a stopped worker), wait
#                                         until the Thrift server takes connections, write DIR/cluster.env
#   scripts/spark-cluster.sh stop DIR     stop the Thrift server, the workers (and their executors), then the master,
#                                         by the process ids start recorded in DIR/pids/
#   scripts/spark-cluster.sh status DIR   which of them run
# DIR holds the pids, logs/, conf/, master/, worker-N/ (work and scratch folders), thrift/ (metastore_db, warehouse).
# Sizes and ports come from the environment (docs/configuration.md); the defaults fit a 2-core machine.
# DWELL_SPARK_THRIFT_TRANSPORT=http starts the Thrift server as the `spark_http` target meets it (dbt-spark's `http`
# method, as on Databricks): HTTP over TLS, on the path /sql/protocolv1/o/0/<cluster>, with a self-signed certificate
# for 127.0.0.1 made once with keytool (DIR/thrift/keystore.p12; its certificate DIR/thrift/server-cert.pem, for
# clients' SSL_CERT_FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
project_dir=$(pwd)

workers=${DWELL_SPARK_WORKERS:-2}
worker_cores=${DWELL_SPARK_WORKER_CORES:-1}
# One executor per worker takes all of it: spark.executor.memory is the worker's memory.
worker_memory=${DWELL_SPARK_WORKER_MEMORY:-1g}
driver_memory=${DWELL_SPARK_DRIVER_MEMORY:-1g}
master_port=${DWELL_SPARK_MASTER_PORT:-7077}
master_ui_port=${DWELL_SPARK_MASTER_UI_PORT:-8080}
thrift_port=${DWELL_SPARK_THRIFT_PORT:-10001}
# The Thrift server's application UI and REST API (/api/v1/applications/.../executors).
thrift_ui_port=${DWELL_SPARK_THRIFT_UI_PORT:-4040}
start_timeout=${DWELL_SPARK_START_TIMEOUT:-240}
# More options for every JVM of the cluster (daemons, the Thrift server's driver, executors), e.g. a short-lived
# cluster's -XX:TieredStopAtLevel=1.
java_options=${DWELL_SPARK_JAVA_OPTIONS:-}
transport=${DWELL_SPARK_THRIFT_TRANSPORT:-binary}
host=127.0.0.1

spark_home() {
    if [ -n "${SPARK_HOME:-}" ]; then
        echo "$SPARK_HOME"
    else
        "$project_dir/.venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'
    fi
}

alive() {
    local pid_file=$1
    [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

# Wait until host:port takes TCP connections, or the process in pid_file ends, or the time is up.
wait_for_port() {
    local name=$1 port=$2 pid_file=$3 log=$4 deadline=$((SECONDS + start_timeout))
    until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
        if ! alive "$pid_file"; then
            echo "spark-cluster: the $name ended before it took connections on $host:$port; its log ($log):" >&2
            tail -n 40 "$log" >&2
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "spark-cluster: the $name takes no connections on $host:$port after ${start_timeout}s; see $log" >&2
            exit 1
        fi
        sleep 1
    done
}

# Spark moves a service whose port is taken to the next free one (up to 16 ports on), and waiting for the configured
# port would then find another program: refuse to start on a port that already answers.
refuse_taken_port() {
    local name=$1 port=$2 variable=$3
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
        echo "spark-cluster: $host:$port, the $name's port, is taken by another program; set $variable to a free" \
            "port (or stop what runs there)" >&2
        exit 1
    fi
}

# Start a JVM in the background with its output in a log, and record its process id. spark-class ends by exec-ing
# java, so the id recorded is the JVM's.
launch() {
    local name=$1
    shift
    nohup "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/pids/$name.pid"
}

# Stop the process in pid_file, then any child it leaves (a worker's executors): TERM, then KILL after 30 s.
stop_one() {
    local pid_file=$1 pid children waited=0
    [ -f "$pid_file" ] || return 0
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
        children=$(pgrep -P "$pid" || true)
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 30 ]; do
            sleep 1
            waited=$((waited + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
        for child in $children; do
            kill -KILL "$child" 2>/dev/null || true
        done
    fi
    rm -f "$pid_file"
}

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop|status DIR" >&2
    exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case "$command" in
    start)
        home=$(spark_home)
        mkdir -p "$dir/pids" "$dir/logs" "$dir/conf" "$dir/master" "$dir/thrift/local"
        # Warnings only, but the master's and workers' own lines (registrations, lost workers and executors).
        cat >"$dir/conf/log4j2.properties" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.deploy.name = org.apache.spark.deploy
logger.deploy.level = info
EOF
        # Every process binds to loopback (its RPC, block manager and web UI), and executors inherit it from their
        # worker. The daemons (master, workers) need little heap.
        export SPARK_HOME=$home SPARK_CONF_DIR=$dir/conf SPARK_LOCAL_IP=$host SPARK_DAEMON_MEMORY=256m
        export SPARK_LOG_DIR=$dir/logs SPARK_NO_DAEMONIZE=1 SPARK_DAEMON_JAVA_OPTS=$java_options
        master_url="spark://$host:$master_port"
        if ! alive "$dir/pids/master.pid"; then
            refuse_taken_port master "$master_port" DWELL_SPARK_MASTER_PORT
            refuse_taken_port "master's web UI" "$master_ui_port" DWELL_SPARK_MASTER_UI_PORT
            launch master "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
                --host "$host" --port "$master_port" --webui-port "$master_ui_port"
            wait_for_port master "$master_port" "$dir/pids/master.pid" "$dir/logs/master.log"
        fi
        for worker in $(seq 1 "$workers"); do
            if ! alive "$dir/pids/worker-$worker.pid"; then
                mkdir -p "$dir/worker-$worker/work" "$dir/worker-$worker/local"
                # A worker's executors keep their shuffle and spill files under its own folder.
                SPARK_LOCAL_DIRS=$dir/worker-$worker/local launch "worker-$worker" \
                    "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
                    --host "$host" --port 0 --webui-port 0 --cores "$worker_cores" --memory "$worker_memory" \
                    --work-dir "$dir/worker-$worker/work" "$master_url"
            fi
        done
        case "$transport" in
            binary)
                transport_settings=(--hiveconf hive.server2.transport.mode=binary
                                    --hiveconf hive.server2.thrift.port="$thrift_port")
                ;;
            http)
                # The password only guards this file, which stays in DIR.
                keystore=$dir/thrift/keystore.p12
                if [ ! -f "$keystore" ]; then
                    if ! { keytool -genkeypair -alias dwell-thrift -keyalg RSA -keysize 2048 -validity 3650 \
                               -dname CN=127.0.0.1 -ext SAN=ip:127.0.0.1 -storetype PKCS12 -keystore "$keystore" \
                               -storepass dwell-thrift -keypass dwell-thrift &&
                           keytool -exportcert -rfc -alias dwell-thrift -keystore "$keystore" \
                               -storepass dwell-thrift -file "$dir/thrift/server-cert.pem"; } >"$dir/logs/keytool.log" 2>&1
                    then
                        rm -f "$keystore"
                        echo "spark-cluster: keytool (from the JDK) could not make the certificate; see" \
                            "$dir/logs/keytool.log" >&2
                        exit 1
                    fi
                fi
                transport_settings=(--hiveconf hive.server2.transport.mode=http
                                    --hiveconf hive.server2.thrift.http.port="$thrift_port"
                                    --hiveconf hive.server2.thrift.http.path=sql/protocolv1/o/0
                                    --hiveconf hive.server2.use.SSL=true
                                    --hiveconf hive.server2.keystore.path="$keystore"
                                    --hiveconf hive.server2.keystore.password=dwell-thrift)
                ;;
            *)
                echo "spark-cluster: DWELL_SPARK_THRIFT_TRANSPORT is binary or http, not '$transport'" >&2
                exit 2
                ;;
        esac
        if ! alive "$dir/pids/thrift.pid"; then
            refuse_taken_port "Thrift server" "$thrift_port" DWELL_SPARK_THRIFT_PORT
            refuse_taken_port "Thrift server's web UI" "$thrift_ui_port" DWELL_SPARK_THRIFT_UI_PORT
            # Submitted to the master (client mode: the driver is this JVM, the executors run on the workers), at
            # most one executor per worker. The metastore and the warehouse are the server's own; what dwell's
            # Python side writes and reads (DWELL_SPARK_DIR) is named by the dbt models, not here. Spark's launcher
            # gives the Thrift server SPARK_DAEMON_MEMORY before --driver-memory.
            SPARK_DAEMON_MEMORY=$driver_memory SPARK_LOCAL_DIRS=$dir/thrift/local launch thrift \
                "$home/bin/spark-class" org.apache.spark.deploy.SparkSubmit \
                --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 \
                --name "dwell Thrift server" --master "$master_url" \
                --driver-memory "$driver_memory" --executor-memory "$worker_memory" \
                --conf spark.executor.cores="$worker_cores" \
                --conf spark.cores.max=$((workers * worker_cores)) \
                --conf spark.driver.host="$host" --conf spark.driver.bindAddress="$host" \
                --conf spark.ui.port="$thrift_ui_port" --conf spark.ui.showConsoleProgress=false \
                --conf spark.sql.warehouse.dir="$dir/thrift/warehouse" \
                --conf "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=$dir/thrift/metastore_db;create=true" \
                --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$dir/thrift -XX:+UseSerialGC $java_options" \
                --conf "spark.executor.extraJavaOptions=-XX:+UseSerialGC $java_options" \
                --conf spark.sql.session.timeZone=UTC \
                --hiveconf hive.server2.thrift.bind.host="$host" "${transport_settings[@]}"
        fi
        wait_for_port "Thrift server" "$thrift_port" "$dir/pids/thrift.pid" "$dir/logs/thrift.log"
        cat >"$dir/cluster.env" <<EOF
DWELL_SPARK_THRIFT_HOST=$host
DWELL_SPARK_THRIFT_PORT=$thrift_port
DWELL_SPARK_THRIFT_TRANSPORT=$transport
SPARK_MASTER_URL=$master_url
SPARK_MASTER_UI=http://$host:$master_ui_port
SPARK_THRIFT_UI=http://$host:$thrift_ui_port
EOF
        echo "spark-cluster: master $master_url (UI http://$host:$master_ui_port), $workers workers," \
            "Thrift server ($transport) on $host:$thrift_port"
        ;;
    stop)
        # The Thrift server first: its application ends and the workers stop its executors.
        stop_one "$dir/pids/thrift.pid"
        for pid_file in "$dir"/pids/worker-*.pid; do
            [ -e "$pid_file" ] && stop_one "$pid_file"
        done
        stop_one "$dir/pids/master.pid"
        ;;
    status)
        for pid_file in "$dir"/pids/*.pid; do
            [ -e "$pid_file" ] || continue
            name=$(basename "$pid_file" .pid)
            if alive "$pid_file"; then
                echo "$name: running (pid $(cat "$pid_file"))"
            else
                echo "$name: not running"
            fi
        done
        ;;
    *)
        echo "usage: $0 start|stop|status DIR" >&2
        exit 2
        ;;
esac
