# The guide's Flask project, reduced to one page: it says which process answered, and as whom.
import os

from flask import Flask

sky = Flask(__name__)


@sky.route("/")
def hello():
    return "hello from skycmdb: pid %d uid %d gid %d\n" % (os.getpid(), os.getuid(), os.getgid())
