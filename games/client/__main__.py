import sys

from games.client.app import main

sys.exit(main())
