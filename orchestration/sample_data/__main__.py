import sys

from orchestration.sample_data.command import main

sys.exit(main())
