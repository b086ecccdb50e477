import sys

from harness.kafka_broker import main

sys.exit(main())
