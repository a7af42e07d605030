# -*- coding: utf-8 -*-
# The guide's entry point: uWSGI loads this file (--wsgi-file SKY.wsgi) and calls `application`.
from SkyFlask import sky as application
